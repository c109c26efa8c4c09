from django.apps import AppConfig


class QProbeConfig(AppConfig):
    """Installed only for bare django-q2 (bench.settings_bare): counts each task once django-q2's
    monitor is done with it (result saved when saving is on, message acknowledged), in Redis."""

    name = "bench.qprobe"
    label = "bench_qprobe"

    def ready(self) -> None:
        from django_q.signals import post_execute

        from bench import probe

        def count(sender, task, **kwargs):
            probe.mark_done()

        post_execute.connect(count, dispatch_uid="bench.qprobe.count", weak=False)
