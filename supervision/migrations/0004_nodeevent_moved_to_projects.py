"""NodeEvent now lives in projects (same table): drop it from this app's state only."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0003_plan_dates_in_range"),
        ("projects", "0004_nodeevent_moved_here"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="NodeEvent")],
            database_operations=[],
        ),
    ]
