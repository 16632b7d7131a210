import datetime
from decimal import Decimal

from django.db import migrations


def create_default_rule(apps, schema_editor):
    RuleVersion = apps.get_model("scoring", "RuleVersion")
    RuleVersion.objects.get_or_create(
        effective_from=datetime.date(2021, 1, 1),
        defaults={
            "yellow_points": Decimal("1.00"),
            "red_points": Decimal("2.00"),
            "base_score": Decimal("100.00"),
            "grace_workdays": 3,
            "reminder_days": [3, 1],
            "note": "默认规则",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("scoring", "0002_initial")]
    operations = [migrations.RunPython(create_default_rule, migrations.RunPython.noop)]
