"""Celery 5 with the Redis broker and no result backend: the outside reference (it keeps no record of a job).
Run as `celery -A bench.celery_app worker --concurrency 2 --pool prefork`."""

import time

from celery import Celery

from bench import probe

app = Celery("bench", broker=probe.URL)
app.conf.update(
    task_ignore_result=True,  # no result backend
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    task_default_queue="bench",
)


@app.task(name="bench.noop")
def noop() -> None:
    probe.mark_done()  # how the measuring process knows it ran: Celery keeps no record


@app.task(name="bench.stamp")
def stamp(key: str) -> None:
    probe.stamp(key, time.time())
    probe.mark_done()
