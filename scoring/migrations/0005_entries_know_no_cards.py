"""The points ledger knows nothing of cards: a card points at its entries (supervision 0005)."""

from django.db import migrations


def cards_to_entries(apps, schema_editor):
    """Backwards: the entries name their card again, before the checks that require it return."""
    Card = apps.get_model("supervision", "Card")
    PointsEntry = apps.get_model("scoring", "PointsEntry")
    for card_id, deduction_id, reversal_id in Card.objects.values_list(
        "pk", "deduction_id", "reversal_id"
    ):
        PointsEntry.objects.filter(pk__in=[deduction_id, reversal_id]).update(card_id=card_id)


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0004_reminder_days_validated"),
        ("supervision", "0005_card_points_at_its_entries"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="pointsentry", name="scoring_pointsentry_once_per_card"),
        migrations.RemoveConstraint(model_name="pointsentry", name="scoring_pointsentry_card_entries_name_card"),
        migrations.RunPython(migrations.RunPython.noop, cards_to_entries),
        migrations.RemoveField(model_name="pointsentry", name="card"),
    ]
