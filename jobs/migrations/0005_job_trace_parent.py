from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("jobs", "0004_job_table_queue")]

    operations = [
        migrations.AddField(
            model_name="job",
            name="trace_parent",
            field=models.CharField(blank=True, default="", max_length=16),
        ),
    ]
