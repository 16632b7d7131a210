"""A card points at its deduction and reversal entries; the points ledger no longer points at cards."""

import django.db.models.deletion
from django.db import migrations, models


def entries_to_cards(apps, schema_editor):
    Card = apps.get_model("supervision", "Card")
    PointsEntry = apps.get_model("scoring", "PointsEntry")
    links: dict[int, dict[str, int]] = {}
    for entry_id, card_id, kind in PointsEntry.objects.filter(card__isnull=False).values_list(
        "pk", "card_id", "kind"
    ):
        field = "deduction_id" if kind == "card_deduction" else "reversal_id"
        links.setdefault(card_id, {})[field] = entry_id
    # One UPDATE per card: PostgreSQL refuses the NOT NULL change below while a row updated
    # twice in this transaction still has deferred foreign-key checks pending.
    for card_id, fields in links.items():
        Card.objects.filter(pk=card_id).update(**fields)
    orphans = list(Card.objects.filter(deduction__isnull=True).values_list("pk", flat=True)[:20])
    if orphans:
        raise RuntimeError(
            f"cards without a deduction entry, which every card must have: {orphans}; "
            "create their card_deduction entries, then migrate again"
        )


def cards_to_entries(apps, schema_editor):
    Card = apps.get_model("supervision", "Card")
    PointsEntry = apps.get_model("scoring", "PointsEntry")
    for card_id, deduction_id, reversal_id in Card.objects.values_list(
        "pk", "deduction_id", "reversal_id"
    ):
        PointsEntry.objects.filter(pk__in=[deduction_id, reversal_id]).update(card_id=card_id)


class Migration(migrations.Migration):
    dependencies = [
        ("supervision", "0004_nodeevent_moved_to_projects"),
        ("scoring", "0004_reminder_days_validated"),
    ]

    operations = [
        migrations.AddField(
            model_name="card",
            name="deduction",
            field=models.OneToOneField(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="scoring.pointsentry", verbose_name="扣分记录"),
        ),
        migrations.AddField(
            model_name="card",
            name="reversal",
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="scoring.pointsentry", verbose_name="返还记录"),
        ),
        migrations.AddField(
            model_name="historicalcard",
            name="deduction",
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="scoring.pointsentry", verbose_name="扣分记录"),
        ),
        migrations.AddField(
            model_name="historicalcard",
            name="reversal",
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="scoring.pointsentry", verbose_name="返还记录"),
        ),
        migrations.RunPython(entries_to_cards, cards_to_entries),
        migrations.AlterField(
            model_name="card",
            name="deduction",
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="scoring.pointsentry", verbose_name="扣分记录"),
        ),
        migrations.AddConstraint(
            model_name="card",
            constraint=models.CheckConstraint(condition=models.Q(models.Q(("reversal__isnull", True), ("revoked_at__isnull", True)), models.Q(("reversal__isnull", False), ("revoked_at__isnull", False)), _connector="OR"), name="supervision_card_reversal_when_revoked"),
        ),
    ]
