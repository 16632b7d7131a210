"""The node's timeline (NodeEvent) belongs with the node: move the model, keep its table."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

def content_type_follows(apps, schema_editor, old="supervision", new="projects"):
    """The model's content type (and with it its permissions, e.g. the office's view right)
    moves with the model."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=new, model="nodeevent").exists():
        ContentType.objects.filter(app_label=old, model="nodeevent").update(app_label=new)


def content_type_back(apps, schema_editor):
    content_type_follows(apps, schema_editor, old="projects", new="supervision")


KINDS = [
    ("completed", "办结"),
    ("progress", "进度填报"),
    ("due_changed", "节点时间变更"),
    ("card_issued", "亮牌"),
    ("card_revoked", "撤销亮牌"),
    ("recommitment_submitted", "提交重新承诺"),
    ("recommitment_approved", "批准重新承诺"),
    ("recommitment_rejected", "驳回重新承诺"),
    ("recommitment_lapsed", "重新承诺失效"),
    ("item_opened", "列入重点督办"),
    ("item_closed", "督办销号"),
    ("inspection", "督查记录"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0003_plan_dates_in_range"),
        ("supervision", "0003_plan_dates_in_range"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="NodeEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(choices=KINDS, max_length=30, verbose_name="事件")),
                        ("occurred_at", models.DateTimeField(verbose_name="时间")),
                        ("message", models.CharField(max_length=500, verbose_name="摘要")),
                        ("data", models.JSONField(blank=True, default=dict, verbose_name="数据")),
                        ("actor", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="操作人")),
                        ("node", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="events", to="projects.node", verbose_name="节点")),
                    ],
                    options={
                        "verbose_name": "节点动态",
                        "verbose_name_plural": "节点动态",
                        "ordering": ["-occurred_at", "-id"],
                        "db_table": "supervision_nodeevent",
                        "indexes": [models.Index(fields=["node", "occurred_at"], name="supervision_event_node")],
                        "constraints": [models.CheckConstraint(condition=models.Q(("kind__in", [k for k, _ in KINDS])), name="supervision_nodeevent_kind_valid")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_type_follows, content_type_back),
        # The names follow the model's new app; these are real (and cheap) schema changes.
        migrations.RenameIndex(model_name="nodeevent", new_name="projects_event_node", old_name="supervision_event_node"),
        migrations.RemoveConstraint(model_name="nodeevent", name="supervision_nodeevent_kind_valid"),
        migrations.AddConstraint(
            model_name="nodeevent",
            constraint=models.CheckConstraint(condition=models.Q(("kind__in", [k for k, _ in KINDS])), name="projects_nodeevent_kind_valid"),
        ),
    ]
