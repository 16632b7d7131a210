"""The points ledger knows nothing of cards: a card points at its entries (supervision 0005)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0004_reminder_days_validated"),
        ("supervision", "0005_card_points_at_its_entries"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="pointsentry", name="scoring_pointsentry_once_per_card"),
        migrations.RemoveConstraint(model_name="pointsentry", name="scoring_pointsentry_card_entries_name_card"),
        migrations.RemoveField(model_name="pointsentry", name="card"),
    ]
