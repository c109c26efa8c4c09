from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("jobs", "0002_cache_table")]
    operations = [
        migrations.RemoveIndex(model_name="job", name="job_due_idx"),
        migrations.RenameField(model_name="job", old_name="dispatched_at", new_name="reserved_at"),
    ]
