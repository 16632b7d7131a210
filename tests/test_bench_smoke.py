"""The benchmark's sweep floor writes exactly what the app's sweep writes, on a tiny data set.

`make bench` compares the sweep with hand-written SQL doing the same work; if the SQL drifted
from what a card writes, the comparison would be meaningless. Same cards, deductions, history
rows, node events, notifications (recipient and event), e-mail bookkeeping and schedules.
"""

import datetime as dt

import pytest
from django.db import connection, transaction

from organization.selectors import system_user
from supervision.services import sweep_run
from tests.bench import floor
from tests.bench.config import OFFICE_USERNAME, STAFF_USERNAME
from tests.bench.data import data_generate

pytestmark = pytest.mark.django_db

AS_OF = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _rows() -> dict[str, list]:
    """What a sweep wrote, without the ids (sequences differ between two passes)."""
    queries = {
        "cards": """SELECT c.node_id, c.kind, c.deadline, c.breached_at, c.issued_at, c.points,
                           c.rule_version_id, c.unit_id, e.points, e.occurred_at, e.kind
                      FROM supervision_card c JOIN scoring_pointsentry e ON e.id = c.deduction_id""",
        "points": """SELECT node_id, unit_id, kind, points, occurred_at, rule_version_id,
                            created_by_id, event_key FROM scoring_pointsentry""",
        "points_history": """SELECT node_id, history_type, history_user_id, points
                               FROM scoring_historicalpointsentry""",
        "card_history": """SELECT node_id, kind, history_type, history_user_id,
                                  history_change_reason FROM supervision_historicalcard""",
        "events": """SELECT v.node_id, v.kind, v.occurred_at, v.actor_id,
                            v.data ->> 'points', (v.data ->> 'card')::bigint = c.id
                       FROM supervision_nodeevent v
                       LEFT JOIN supervision_card c ON c.node_id = v.node_id""",
        "notifications": """SELECT n.recipient_id, n.kind, n.node_id, n.created_at,
                                   CASE WHEN n.event_key LIKE 'card:%%'
                                        THEN 'card of node ' || c.node_id ELSE n.event_key END,
                                   n.emailed_at IS NOT NULL, n.email_attempts, n.email_next_at
                              FROM supervision_notification n
                              LEFT JOIN supervision_card c ON n.event_key = 'card:' || c.id""",
        "schedules": """SELECT id, next_escalation_at FROM projects_node""",
        "runs": """SELECT as_of, yellow, red, items, notifications FROM supervision_sweeprun""",
    }
    with connection.cursor() as cursor:
        result = {}
        for name, sql in queries.items():
            cursor.execute(sql)
            result[name] = sorted(cursor.fetchall(), key=repr)
    return result


class _Undo(Exception):
    pass


def _written_by(work) -> dict[str, list]:
    """The rows `work` writes, then undone, so the next pass starts from the same data."""
    try:
        with transaction.atomic():
            work()
            rows = _rows()
            raise _Undo
    except _Undo:
        return rows


@pytest.mark.postgres
def test_floor_writes_what_the_sweep_writes(time_machine):
    time_machine.move_to(AS_OF, tick=False)
    data_generate(
        projects=15, nodes_per_project=20, overdue_fraction=0.05, seed=1, today=AS_OF.date()
    )
    with connection.cursor() as cursor:  # a node the office has done late still gets its card
        cursor.execute(
            "UPDATE projects_node SET completed_at = %s WHERE id = (SELECT min(id)"
            " FROM projects_node WHERE due_date < %s AND completed_at IS NULL"
            " AND (next_escalation_at IS NULL OR next_escalation_at <= %s))",
            [AS_OF - dt.timedelta(hours=1), AS_OF.date(), AS_OF],
        )
        # Two open nodes moved to fall due tomorrow and in three days, their schedule to be
        # worked out again (as an edit leaves it): reminders, and the never-worked-out read.
        for days in (1, 3):
            cursor.execute(
                "UPDATE projects_node SET due_date = %s, next_escalation_at = NULL WHERE id ="
                " (SELECT max(id) FROM projects_node n WHERE completed_at IS NULL"
                " AND committed_due_date IS NULL AND due_date > %s"
                " AND NOT EXISTS (SELECT 1 FROM supervision_card c WHERE c.node_id = n.id))",
                [AS_OF.date() + dt.timedelta(days=days), AS_OF.date() + dt.timedelta(days=3)],
            )
    system_id = system_user().pk

    app = _written_by(lambda: sweep_run(as_of=AS_OF))
    sql = _written_by(lambda: floor.sweep_card(as_of=AS_OF, system_user_id=system_id))

    assert len(app["cards"]) >= 10, "the tiny data set owes cards"
    assert any(kind == "reminder" for _r, kind, *_ in app["notifications"]), "and reminders"
    assert len(app["notifications"]) > len(app["cards"])
    for table in app:
        assert sql[table] == app[table], table


def test_the_data_has_the_login_users_the_bench_signs_in_as():
    data_generate(
        projects=1, nodes_per_project=20, overdue_fraction=0.0, seed=1, today=AS_OF.date()
    )
    from organization.models import User

    assert set(
        User.objects.filter(username__in=[STAFF_USERNAME, OFFICE_USERNAME]).values_list(
            "username", flat=True
        )
    ) == {STAFF_USERNAME, OFFICE_USERNAME}
