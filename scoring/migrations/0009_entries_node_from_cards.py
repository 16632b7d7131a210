"""Existing card entries learn their node from the card that points at them.

The points ledger still knows nothing of cards in Python: only this migration reads the
supervision app's historical Card, so the work-stream rankings count the entries made
before entries named their node.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def entries_node_from_cards(apps, schema_editor):
    Card = apps.get_model("supervision", "Card")
    PointsEntry = apps.get_model("scoring", "PointsEntry")
    for column in ("deduction", "reversal"):
        node_of_card = Card.objects.filter(**{column: OuterRef("pk")}).values("node_id")[:1]
        PointsEntry.objects.filter(
            node__isnull=True, **{"pk__in": Card.objects.values(f"{column}_id")}
        ).update(node_id=Subquery(node_of_card))


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0008_entries_name_their_node"),
        ("supervision", "0007_notification_email_retries"),
    ]

    operations = [
        migrations.RunPython(entries_node_from_cards, migrations.RunPython.noop),
    ]
