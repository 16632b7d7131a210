"""Every database constraint of the four apps turns a bad row away, whatever the code above does."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import UniqueConstraint

from organization.models import ApiToken, Coverage, RoleAssignment, Unit
from projects.models import (
    DisposalLine,
    Enterprise,
    Node,
    NodeEvent,
    NodeTemplate,
    NodeTemplateStep,
    ProgressReport,
    Project,
)
from projects.validators import uscc_check_digit
from scoring.models import PointsEntry, RuleVersion
from supervision.models import Card, InspectionRecord, Notification, Recommitment, SupervisionItem
from tests.factories import (
    DisposalLineFactory,
    EnterpriseFactory,
    LocalityFactory,
    NodeFactory,
    ProjectFactory,
    UnitFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 21, 0, 0, tzinfo=dt.timezone.utc)


def violation_text(model, rule: str) -> str:
    """What the database says when `rule` (a constraint name or unique:<field>) turns a row away."""
    table = model._meta.db_table
    on_sqlite = connection.vendor == "sqlite"
    if rule.startswith("not null:"):
        column = model._meta.get_field(rule.removeprefix("not null:")).column
        if on_sqlite:
            return f"NOT NULL constraint failed: {table}.{column}"
        return f'null value in column "{column}"'
    if rule.startswith("unique:"):
        column = model._meta.get_field(rule.removeprefix("unique:")).column
        return f"UNIQUE constraint failed: {table}.{column}" if on_sqlite else f"Key ({column})="
    constraint = next(c for c in model._meta.constraints if c.name == rule)
    if on_sqlite and isinstance(constraint, UniqueConstraint):
        columns = (model._meta.get_field(f).column for f in constraint.fields)
        return "UNIQUE constraint failed: " + ", ".join(f"{table}.{c}" for c in columns)
    return rule


def assert_rejected(model, rule: str | tuple[str, ...], **fields):
    """The row cannot be inserted because of `rule` (or one of several it breaks at once), and
    the table is left as it was."""
    rules = (rule,) if isinstance(rule, str) else rule
    before = model.objects.count()
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        model.objects.create(**fields)
    assert any(violation_text(model, r) in str(excinfo.value) for r in rules), str(excinfo.value)
    assert model.objects.count() == before


@pytest.fixture
def rule():
    return RuleVersion.objects.create(effective_from=dt.date(2026, 1, 1), reminder_days=[3, 1])


def ledger_entry(unit, kind="card_deduction", points=Decimal("-1.00")):
    return PointsEntry.objects.create(
        unit=unit, kind=kind, points=points, reason="亮牌扣分", occurred_at=NOW
    )


def card_fields(node, rule, **overrides):
    """A card's fields with a fresh deduction entry (and a reversal when it is revoked)."""
    fields = dict(
        node=node,
        unit=node.unit,
        kind="yellow",
        deadline=node.due_date,
        breached_at=NOW,
        issued_at=NOW,
        points=Decimal("1.00"),
        rule_version=rule,
        deduction=ledger_entry(node.unit),
    )
    if "revoked_at" in overrides and "reversal" not in overrides:
        fields["reversal"] = ledger_entry(node.unit, "card_reversal", Decimal("1.00"))
    return fields | overrides


# organization ------------------------------------------------------------------------------


def test_unit_kind_must_be_a_known_kind():
    # given
    UnitFactory(name="县财政局", kind="department")
    # when / then
    assert_rejected(Unit, "organization_unit_kind_valid", name="县某某局", kind="bogus")


def test_unit_name_is_unique():
    # given
    UnitFactory(name="县财政局")
    # when / then
    assert_rejected(Unit, "unique:name", name="县财政局", kind="department")


def test_role_must_be_a_known_role():
    # given
    user, unit = UserFactory(), UnitFactory()
    # when / then
    assert_rejected(
        RoleAssignment, "organization_roleassignment_role_valid", user=user, role="bogus", unit=unit
    )


def test_staff_and_leader_roles_need_a_unit():
    # given
    user = UserFactory()
    # when / then
    rule = "organization_roleassignment_unit_matches_role"
    assert_rejected(RoleAssignment, rule, user=user, role="staff", unit=None)
    assert_rejected(RoleAssignment, rule, user=user, role="leader", unit=None)


def test_principal_and_supervisor_roles_take_no_unit():
    # given
    user, unit = UserFactory(), UnitFactory()
    # when / then
    rule = "organization_roleassignment_unit_matches_role"
    assert_rejected(RoleAssignment, rule, user=user, role="principal", unit=unit)
    assert_rejected(RoleAssignment, rule, user=user, role="supervisor", unit=unit)


def test_a_unit_role_is_held_once_per_unit():
    # given
    user, unit, other = UserFactory(), UnitFactory(), UnitFactory()
    RoleAssignment.objects.create(user=user, role="staff", unit=unit)
    RoleAssignment.objects.create(user=user, role="staff", unit=other)
    RoleAssignment.objects.create(user=user, role="leader", unit=unit)
    # when / then
    assert_rejected(
        RoleAssignment,
        "organization_roleassignment_unique_unit_role",
        user=user,
        role="staff",
        unit=unit,
    )
    assert RoleAssignment.objects.filter(user=user).count() == 3


def test_a_county_role_is_held_once():
    # given
    user = UserFactory()
    RoleAssignment.objects.create(user=user, role="principal")
    RoleAssignment.objects.create(user=user, role="supervisor")
    # when / then
    rule = "organization_roleassignment_unique_county_role"
    assert_rejected(RoleAssignment, rule, user=user, role="principal", unit=None)
    assert_rejected(RoleAssignment, rule, user=user, role="supervisor", unit=None)


def test_coverage_target_must_be_a_known_target():
    # given
    leader, locality = UserFactory(), LocalityFactory()
    # when / then
    # A bogus target breaks both rules; the database reports whichever it checks first.
    assert_rejected(
        Coverage,
        ("organization_coverage_target_valid", "organization_coverage_one_target"),
        leader=leader,
        target="bogus",
        locality=locality,
    )


def test_coverage_names_exactly_its_one_target():
    # given
    leader, locality = UserFactory(), LocalityFactory()
    enterprise, project = EnterpriseFactory(), ProjectFactory()
    Coverage.objects.create(leader=leader, target="locality", locality=locality)
    Coverage.objects.create(leader=leader, target="enterprise", enterprise=enterprise)
    Coverage.objects.create(leader=leader, target="project", project=project)
    other = UserFactory()
    # when / then: nothing named, two named, or the wrong one named
    rule = "organization_coverage_one_target"
    assert_rejected(Coverage, rule, leader=other, target="locality")
    assert_rejected(
        Coverage, rule, leader=other, target="locality", locality=locality, enterprise=enterprise
    )
    assert_rejected(Coverage, rule, leader=other, target="enterprise", locality=locality)
    assert_rejected(Coverage, rule, leader=other, target="project", enterprise=enterprise)
    assert_rejected(
        Coverage,
        rule,
        leader=other,
        target="project",
        locality=locality,
        enterprise=enterprise,
        project=project,
    )


def test_a_leader_covers_a_target_once():
    # given
    leader, locality = UserFactory(), LocalityFactory()
    enterprise, project = EnterpriseFactory(), ProjectFactory()
    Coverage.objects.create(leader=leader, target="locality", locality=locality)
    Coverage.objects.create(leader=leader, target="enterprise", enterprise=enterprise)
    Coverage.objects.create(leader=leader, target="project", project=project)
    # when / then
    assert_rejected(
        Coverage,
        "organization_coverage_unique_locality",
        leader=leader,
        target="locality",
        locality=locality,
    )
    assert_rejected(
        Coverage,
        "organization_coverage_unique_enterprise",
        leader=leader,
        target="enterprise",
        enterprise=enterprise,
    )
    assert_rejected(
        Coverage,
        "organization_coverage_unique_project",
        leader=leader,
        target="project",
        project=project,
    )


def test_api_token_digest_is_unique():
    # given
    user = UserFactory()
    ApiToken.objects.create(user=user, digest="a" * 64, prefix="aaaaaaaa")
    # when / then
    assert_rejected(ApiToken, "unique:digest", user=user, digest="a" * 64, prefix="bbbbbbbb")


# projects ----------------------------------------------------------------------------------


def test_enterprise_credit_code_has_18_characters_and_is_unique():
    # given
    code = "91340123MA2N0X1Y2" + uscc_check_digit("91340123MA2N0X1Y2")
    Enterprise.objects.create(name="合肥甲有限公司", credit_code=code)
    Enterprise.objects.create(name="合肥乙有限公司", credit_code=None)
    # when / then
    assert_rejected(
        Enterprise,
        "projects_enterprise_credit_code_length",
        name="合肥丙有限公司",
        credit_code="91340123MA2N0X1",
    )
    assert_rejected(Enterprise, "unique:credit_code", name="合肥丁有限公司", credit_code=code)
    assert_rejected(Enterprise, "unique:name", name="合肥甲有限公司", credit_code=None)


def test_project_code_is_unique():
    # given
    project = ProjectFactory(code="FXDX-001")
    # when / then
    assert_rejected(
        Project, "unique:code", code="FXDX-001", name="另一个项目", locality=project.locality
    )


def test_project_status_must_be_a_known_status():
    # given
    locality = LocalityFactory()
    # when / then
    assert_rejected(
        Project,
        "projects_project_status_valid",
        code="FXDX-002",
        name="项目",
        locality=locality,
        status="bogus",
    )


def test_project_end_date_is_not_before_its_start():
    # given
    locality = LocalityFactory()
    Project.objects.create(
        code="FXDX-003",
        name="项目",
        locality=locality,
        start_date=dt.date(2026, 3, 1),
        end_date=dt.date(2026, 3, 1),
    )
    # when / then
    assert_rejected(
        Project,
        "projects_project_dates_ordered",
        code="FXDX-004",
        name="项目",
        locality=locality,
        start_date=dt.date(2026, 3, 2),
        end_date=dt.date(2026, 3, 1),
    )


def test_disposal_method_must_be_a_known_method():
    # given
    project = ProjectFactory()
    # when / then
    assert_rejected(
        DisposalLine,
        "projects_disposalline_method_valid",
        project=project,
        method="bogus",
        area_mu=Decimal("1.00"),
    )


@pytest.mark.parametrize("area", [Decimal("0.00"), Decimal("-5.50")])
def test_disposal_area_is_positive(area):
    # given
    project = ProjectFactory()
    DisposalLine.objects.create(project=project, method="grafting", area_mu=Decimal("0.01"))
    # when / then
    assert_rejected(
        DisposalLine,
        "projects_disposalline_area_positive",
        project=project,
        method="takeback",
        area_mu=area,
    )


def test_a_project_has_each_disposal_method_once():
    # given
    line = DisposalLineFactory(method="takeback", area_mu=Decimal("10.00"))
    DisposalLine.objects.create(
        project=line.project, method="self_upgrade", area_mu=Decimal("2.00")
    )
    # when / then
    assert_rejected(
        DisposalLine,
        "projects_disposalline_unique_method",
        project=line.project,
        method="takeback",
        area_mu=Decimal("3.00"),
    )
    assert line.project.disposal_lines.count() == 2


def test_node_seq_is_unique_within_its_project():
    # given
    node = NodeFactory(seq=1)
    other_project = ProjectFactory()
    Node.objects.create(
        project=other_project, seq=1, name="节点", unit=node.unit, due_date=node.due_date
    )
    # when / then
    assert_rejected(
        Node,
        "projects_node_unique_seq",
        project=node.project,
        seq=1,
        name="节点",
        unit=node.unit,
        due_date=node.due_date,
    )


def test_node_seq_starts_at_one():
    # given
    project, unit = ProjectFactory(), UnitFactory()
    # when / then
    assert_rejected(
        Node,
        "projects_node_seq_positive",
        project=project,
        seq=0,
        name="节点",
        unit=unit,
        due_date=dt.date(2026, 1, 1),
    )


@pytest.mark.parametrize("progress", [101, 255])
def test_node_progress_is_a_percentage(progress):
    # given
    project, unit = ProjectFactory(), UnitFactory()
    Node.objects.create(
        project=project, seq=1, name="节点", unit=unit, due_date=dt.date(2026, 1, 1), progress=100
    )
    # when / then
    assert_rejected(
        Node,
        "projects_node_progress_percent",
        project=project,
        seq=2,
        name="节点",
        unit=unit,
        due_date=dt.date(2026, 1, 1),
        progress=progress,
    )


def test_node_template_step_rules():
    # given
    template = NodeTemplate.objects.create(name="收储收回标准流程")
    NodeTemplateStep.objects.create(
        template=template, seq=1, name="摸底调查", unit_kind="township", offset_days=10
    )
    # when / then
    step = dict(template=template, name="评估报告", offset_days=30)
    assert_rejected(
        NodeTemplateStep,
        "projects_nodetemplatestep_unique_seq",
        seq=1,
        unit_kind="department",
        **step,
    )
    assert_rejected(
        NodeTemplateStep,
        "projects_nodetemplatestep_seq_positive",
        seq=0,
        unit_kind="department",
        **step,
    )
    assert_rejected(
        NodeTemplateStep,
        "projects_nodetemplatestep_unit_kind_valid",
        seq=2,
        unit_kind="bogus",
        **step,
    )


def test_progress_report_percent_is_a_percentage():
    # given
    node, author = NodeFactory(), UserFactory()
    ProgressReport.objects.create(node=node, percent=100, author=author)
    # when / then
    assert_rejected(
        ProgressReport, "projects_progressreport_percent", node=node, percent=101, author=author
    )


# supervision -------------------------------------------------------------------------------


def test_card_kind_must_be_a_known_kind(rule):
    # given
    node = NodeFactory()
    # when / then
    assert_rejected(Card, "supervision_card_kind_valid", **card_fields(node, rule, kind="orange"))


def test_a_node_holds_one_card_of_each_kind_and_never_two_for_one_deadline(rule):
    # given
    node = NodeFactory()
    yellow = Card.objects.create(**card_fields(node, rule))
    Card.objects.create(**card_fields(node, rule, kind="red", points=Decimal("2.00")))
    later = node.due_date + dt.timedelta(days=30)
    # when / then: a second card in force of a kind, even for another deadline
    assert_rejected(
        Card, "supervision_card_one_in_force_per_kind", **card_fields(node, rule, deadline=later)
    )
    assert_rejected(
        Card,
        "supervision_card_one_in_force_per_kind",
        **card_fields(node, rule, kind="red", deadline=later),
    )
    # and once revoked, the same deadline still cannot have another card
    Card.objects.filter(pk=yellow.pk).update(
        revoked_at=NOW,
        revoke_reason="误发",
        reversal=ledger_entry(node.unit, "card_reversal", Decimal("1.00")),
    )
    assert_rejected(Card, "supervision_card_once_per_deadline", **card_fields(node, rule))
    assert Card.objects.filter(node=node).count() == 2
    # a new deadline may
    Card.objects.create(**card_fields(node, rule, deadline=later))
    assert Card.objects.filter(node=node).count() == 3


def test_card_points_are_not_negative(rule):
    # given
    node = NodeFactory()
    # when / then
    assert_rejected(
        Card,
        "supervision_card_points_nonnegative",
        **card_fields(node, rule, points=Decimal("-1.00")),
    )


def test_card_revocation_has_time_and_reason_together(rule):
    # given
    node, other, third = NodeFactory(), NodeFactory(), NodeFactory()
    supervisor = UserFactory()
    Card.objects.create(
        **card_fields(node, rule, revoked_at=NOW, revoked_by=supervisor, revoke_reason="系统误判")
    )
    # when / then
    rule_name = "supervision_card_revocation_complete"
    assert_rejected(
        Card, rule_name, **card_fields(other, rule, revoked_at=NOW, revoked_by=supervisor)
    )
    assert_rejected(Card, rule_name, **card_fields(other, rule, revoke_reason="系统误判"))
    assert_rejected(Card, rule_name, **card_fields(third, rule, revoked_by=supervisor))


def recommitment_fields(node, user, **overrides):
    fields = dict(
        node=node,
        reason="征迁协商未达成一致",
        new_due_date=dt.date(2026, 12, 20),
        submitted_by=user,
        submitted_at=NOW,
    )
    return fields | overrides


def test_a_node_has_one_pending_recommitment():
    # given
    node, user = NodeFactory(), UserFactory()
    Recommitment.objects.create(
        **recommitment_fields(node, user, status="approved", decided_by=user, decided_at=NOW)
    )
    Recommitment.objects.create(**recommitment_fields(node, user))
    # when / then
    assert_rejected(
        Recommitment, "supervision_recommitment_one_pending", **recommitment_fields(node, user)
    )
    assert Recommitment.objects.filter(node=node).count() == 2


def test_recommitment_rules():
    # given
    node, user = NodeFactory(), UserFactory()

    # when / then
    def rejected(rule, **overrides):
        assert_rejected(
            Recommitment,
            f"supervision_recommitment_{rule}",
            **recommitment_fields(node, user, **overrides),
        )

    rejected("status_valid", status="bogus", decided_at=NOW)
    rejected("reason_length", reason="")
    rejected("reason_length", reason="因" * 2001)
    rejected("decided_when_final", status="approved")
    rejected("decided_when_final", decided_at=NOW)
    rejected("rejection_has_comment", status="rejected", decided_at=NOW, comment="")


def test_supervision_item_rules(rule):
    # given
    node = NodeFactory()
    card = Card.objects.create(**card_fields(node, rule, kind="red", points=Decimal("2.00")))
    item = dict(card=card, node=node, unit=node.unit, opened_at=NOW)
    # when / then
    prefix = "supervision_supervisionitem"
    closed = f"{prefix}_closed_complete"
    assert_rejected(SupervisionItem, (f"{prefix}_status_valid", closed), status="bogus", **item)
    assert_rejected(SupervisionItem, closed, status="closed", closed_at=NOW, close_note="", **item)
    assert_rejected(SupervisionItem, closed, status="closed", close_note="已办结", **item)
    assert_rejected(SupervisionItem, closed, status="open", closed_at=NOW, **item)
    SupervisionItem.objects.create(**item)
    assert_rejected(SupervisionItem, "unique:card", **item)


def test_inspection_mode_must_be_a_known_mode(rule):
    # given
    node, author = NodeFactory(), UserFactory()
    card = Card.objects.create(**card_fields(node, rule, kind="red", points=Decimal("2.00")))
    item = SupervisionItem.objects.create(card=card, node=node, unit=node.unit, opened_at=NOW)
    # when / then
    assert_rejected(
        InspectionRecord,
        "supervision_inspectionrecord_mode_valid",
        item=item,
        mode="phone",
        inspected_on=dt.date(2026, 11, 23),
        text="现场查看",
        author=author,
    )


def test_notification_goes_once_per_event_and_kind_is_known():
    # given
    user = UserFactory()
    note = dict(recipient=user, title="提醒", created_at=NOW)
    Notification.objects.create(kind="reminder", event_key="due:1:3", **note)
    # when / then
    assert_rejected(
        Notification,
        "supervision_notification_once_per_event",
        kind="reminder",
        event_key="due:1:3",
        **note,
    )
    assert_rejected(
        Notification,
        "supervision_notification_kind_valid",
        kind="bogus",
        event_key="due:1:1",
        **note,
    )


def test_node_event_kind_must_be_a_known_kind():
    # given
    node = NodeFactory()
    # when / then
    assert_rejected(
        NodeEvent,
        "projects_nodeevent_kind_valid",
        node=node,
        kind="bogus",
        occurred_at=NOW,
        message="某事",
    )


# scoring -----------------------------------------------------------------------------------


def test_rule_version_rules(rule):
    # when / then
    later = dt.date(2027, 1, 1)
    points = "scoring_ruleversion_points_nonnegative"
    assert_rejected(RuleVersion, "unique:effective_from", effective_from=rule.effective_from)
    assert_rejected(RuleVersion, points, effective_from=later, yellow_points=Decimal("-1"))
    assert_rejected(RuleVersion, points, effective_from=later, red_points=Decimal("-2"))
    assert_rejected(
        RuleVersion, "scoring_ruleversion_grace_positive", effective_from=later, grace_workdays=0
    )


def entry_fields(source, **overrides):
    fields = dict(
        unit=source.unit,
        kind="card_deduction",
        points=Decimal("-1.00"),
        reason="黄牌扣分",
        rule_version=source.rule_version,
        occurred_at=source.breached_at,
    )
    return fields | overrides


def test_a_card_has_exactly_one_deduction_and_an_entry_serves_one_card(rule):
    """A card points at its deduction (required) and its reversal; no entry serves two cards."""
    # given
    node, other = NodeFactory(), NodeFactory()
    card = Card.objects.create(**card_fields(node, rule))
    # when / then
    assert_rejected(Card, "not null:deduction", **card_fields(other, rule, deduction=None))
    assert_rejected(Card, "unique:deduction", **card_fields(other, rule, deduction=card.deduction))
    assert Card.objects.get().deduction.points == Decimal("-1.00")


def test_a_card_is_revoked_together_with_its_reversal(rule):
    """A revoked card names its reversal entry, and only a revoked card has one."""
    # given
    node, other = NodeFactory(), NodeFactory()
    supervisor = UserFactory()
    reversal = ledger_entry(node.unit, "card_reversal", Decimal("1.00"))
    # when / then
    name = "supervision_card_reversal_when_revoked"
    assert_rejected(Card, name, **card_fields(node, rule, reversal=reversal))
    assert_rejected(
        Card,
        name,
        **card_fields(
            other, rule, revoked_at=NOW, revoked_by=supervisor, revoke_reason="误发", reversal=None
        ),
    )
    assert Card.objects.count() == 0


def test_points_entry_kind_and_signs(rule):
    # given
    card = Card.objects.create(**card_fields(NodeFactory(), rule))
    unit = card.unit
    PointsEntry.objects.create(
        unit=unit, kind="bonus", points=Decimal("2.00"), reason="加分", occurred_at=NOW
    )
    PointsEntry.objects.create(
        unit=unit, kind="adjustment", points=Decimal("-0.50"), reason="调整", occurred_at=NOW
    )

    # when / then
    def rejected(rule, **overrides):
        assert_rejected(
            PointsEntry, f"scoring_pointsentry_{rule}", **entry_fields(card, **overrides)
        )

    rejected("kind_valid", kind="bogus")
    rejected("deduction_negative", points=Decimal("1.00"))
    rejected("reversal_positive", kind="card_reversal", points=Decimal("-1.00"))


def test_constraints_are_named_after_their_app_and_model():
    """House style: constraint names read <app>_<model>_<rule>."""
    from django.apps import apps

    for app in ("organization", "projects", "supervision", "scoring"):
        for model in apps.get_app_config(app).get_models():
            for constraint in model._meta.constraints:
                prefix = f"{app}_{model._meta.model_name}_"
                assert constraint.name.startswith(prefix), constraint.name
