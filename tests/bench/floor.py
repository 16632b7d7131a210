"""The floors: hand-written, set-based SQL doing the same work as the app, for comparison.

Each function runs on Django's connection (PostgreSQL) and returns the number of queries it
sent. The sweep's floor writes the same rows as `sweep_run` on freshly generated data (nodes
without cards or recommitments): the smoke test tests/test_bench_smoke.py holds them equal.
"""

import datetime as dt

from django.db import connection, transaction

from core import clock
from projects.choices import NodeEventKind
from scoring.choices import EntryKind
from supervision import rules
from supervision.choices import CardKind, NotificationKind
from supervision.services.facts import ESCALATION_SETTLED, EscalationContext

# The rule version in force on a day: the latest started, else the first (core.versioning).
_IN_FORCE = """
    SELECT rv.* FROM scoring_ruleversion rv
    ORDER BY (rv.effective_from <= {day}) DESC,
             CASE WHEN rv.effective_from <= {day} THEN rv.effective_from END DESC,
             rv.effective_from
    LIMIT 1
"""

# A node's breach instant: 00:00 local time the day after its date.
_BREACH = "((n.due_date + 1)::timestamp AT TIME ZONE %(tz)s)"

# Who hears of a card: the unit's active staff and leaders, and the supervision office.
_CARD_RECIPIENTS = """
    SELECT ra.unit_id, u.id AS user_id
      FROM organization_roleassignment ra JOIN organization_user u ON u.id = ra.user_id
     WHERE u.is_active AND ra.role IN ('staff', 'leader')
"""
_UNIT_STAFF = """
    SELECT DISTINCT ra.unit_id, u.id AS user_id
      FROM organization_roleassignment ra JOIN organization_user u ON u.id = ra.user_id
     WHERE u.is_active AND ra.role = 'staff'
"""
_OFFICE = """
    SELECT u.id AS user_id
      FROM organization_roleassignment ra JOIN organization_user u ON u.id = ra.user_id
     WHERE u.is_active AND ra.role = 'supervisor'
"""

# The rows a sweep writes, by table (the benchmark compares the app's and the floor's).
WRITTEN_TABLES = (
    "scoring_pointsentry",
    "scoring_historicalpointsentry",
    "supervision_card",
    "supervision_historicalcard",
    "supervision_nodeevent",
    "supervision_notification",
    "supervision_sweeprun",
)


class Counter:
    """Counts the queries sent on the connection (connection.execute_wrapper)."""

    def __init__(self):
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


def table_counts() -> dict[str, int]:
    """Rows per written table, the e-mailed notifications and a checksum of the schedules."""
    with connection.cursor() as cursor:
        counts = {}
        for table in WRITTEN_TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
            counts[table] = cursor.fetchone()[0]
        # The schedules as one number: equal changes give equal differences.
        cursor.execute(
            "SELECT coalesce(sum(hashtext(id || ':' || coalesce("
            "extract(epoch FROM next_escalation_at)::text, '-'))::bigint), 0)"
            " FROM projects_node"
        )
        counts["projects_node.next_escalation_at (checksum)"] = int(cursor.fetchone()[0])
        cursor.execute("SELECT count(*) FROM supervision_notification WHERE emailed_at IS NOT NULL")
        counts["supervision_notification.emailed_at"] = cursor.fetchone()[0]
    return counts


def _grace_breach(as_of: dt.datetime) -> dt.datetime:
    """When a yellow card issued at `as_of` turns red without a recommitment: the same for
    every card of the pass, worked out once with the app's working calendar (one query)."""
    ctx = EscalationContext.load()
    day = clock.local_date(as_of)
    workdays = ctx.policy_on(day).grace_workdays
    return clock.end_of_day_instant(rules.grace_deadline(day, workdays, ctx.calendar.is_workday))


def sweep_card(*, as_of: dt.datetime, system_user_id: int) -> int:
    """The sweep's work as of `as_of`, set-based: yellow cards with their deductions, history
    rows, node events and notifications, the reminders, the e-mail bookkeeping, the nodes'
    next check and the run's row. Returns the number of queries."""
    params = {
        "as_of": as_of,
        "tz": clock.local_tz().key,
        "settled": ESCALATION_SETTLED,
        "system": system_user_id,
        "today": clock.local_date(as_of),
        "yellow": CardKind.YELLOW.value,
        "deduction": EntryKind.CARD_DEDUCTION.value,
        "event": NodeEventKind.CARD_ISSUED.value,
        "card_note": NotificationKind.CARD_ISSUED.value,
        "reminder": NotificationKind.REMINDER.value,
    }
    statements = [
        # 1. The nodes owing a yellow card, with their rule version and new ids.
        f"""
        CREATE TEMP TABLE bench_due ON COMMIT DROP AS
        SELECT n.id AS node_id, n.unit_id, n.due_date AS deadline, {_BREACH} AS breached_at,
               rv.id AS version_id, rv.yellow_points AS points,
               nextval(pg_get_serial_sequence('scoring_pointsentry', 'id')) AS entry_id,
               nextval(pg_get_serial_sequence('supervision_card', 'id')) AS card_id,
               n.name AS node_name, p.code || ' ' || p.name AS project, u.name AS unit_name
          FROM projects_node n
          JOIN projects_project p ON p.id = n.project_id
          JOIN organization_unit u ON u.id = n.unit_id
         CROSS JOIN LATERAL ({_IN_FORCE.format(day="n.due_date + 1")}) rv
         WHERE n.archived_at IS NULL
           AND (n.next_escalation_at IS NULL OR n.next_escalation_at <= %(as_of)s)
           AND {_BREACH} <= %(as_of)s
           AND (n.completed_at IS NULL OR n.completed_at >= {_BREACH})
           AND NOT EXISTS (
               SELECT 1 FROM supervision_card c
                WHERE c.node_id = n.id AND c.kind = %(yellow)s
                  AND (c.revoked_at IS NULL OR c.deadline = n.due_date))
        """,
        # 2. Deductions and their history rows.
        """
        INSERT INTO scoring_pointsentry
               (id, unit_id, kind, points, reason, rule_version_id, occurred_at, created_at,
                created_by_id, event_key, node_id)
        SELECT entry_id, unit_id, %(deduction)s, -points,
               left(project || ' 节点“' || node_name || '”超过计划完成时间 ' || deadline
                    || '，黄牌扣' || points || '分', 500),
               version_id, breached_at, now(), %(system)s, NULL, node_id
          FROM bench_due
        """,
        """
        INSERT INTO scoring_historicalpointsentry
               (id, kind, points, reason, occurred_at, created_at, event_key, history_date,
                history_change_reason, history_type, created_by_id, history_user_id, node_id,
                rule_version_id, unit_id)
        SELECT e.id, e.kind, e.points, e.reason, e.occurred_at, e.created_at, NULL, now(),
               NULL, '+', e.created_by_id, NULL, e.node_id, e.rule_version_id, e.unit_id
          FROM scoring_pointsentry e JOIN bench_due d ON d.entry_id = e.id
        """,
        # 3. Cards and their history rows.
        """
        INSERT INTO supervision_card
               (id, kind, deadline, breached_at, issued_at, points, revoked_at, revoke_reason,
                node_id, revoked_by_id, rule_version_id, unit_id, deduction_id, reversal_id)
        SELECT card_id, %(yellow)s, deadline, breached_at, %(as_of)s, points, NULL, '',
               node_id, NULL, version_id, unit_id, entry_id, NULL
          FROM bench_due
        """,
        """
        INSERT INTO supervision_historicalcard
               (id, kind, deadline, breached_at, issued_at, points, revoked_at, revoke_reason,
                history_date, history_change_reason, history_type, history_user_id, node_id,
                revoked_by_id, rule_version_id, unit_id, deduction_id, reversal_id)
        SELECT card_id, %(yellow)s, deadline, breached_at, %(as_of)s, points, NULL, '',
               now(), '系统自动亮牌', '+', %(system)s, node_id, NULL, version_id, unit_id,
               entry_id, NULL
          FROM bench_due
        """,
        # 4. The nodes' timelines.
        """
        INSERT INTO supervision_nodeevent (kind, occurred_at, message, data, actor_id, node_id)
        SELECT %(event)s, %(as_of)s,
               '黄牌：超过计划完成时间 ' || deadline || '，扣' || points || '分',
               jsonb_build_object('card', card_id, 'breached_at', breached_at,
                                  'points', points::text),
               %(system)s, node_id
          FROM bench_due
        """,
        # 5. The cards' notifications: unit staff and leaders, and the office.
        f"""
        INSERT INTO supervision_notification
               (recipient_id, kind, event_key, node_id, title, body, created_at, read_at,
                emailed_at, email_attempts, email_next_at)
        SELECT r.user_id, %(card_note)s, 'card:' || d.card_id, d.node_id,
               left(d.project || ' 节点“' || d.node_name || '”被亮黄牌', 200),
               '责任单位：' || d.unit_name || '。超过计划完成时间 ' || d.deadline
                   || '，扣' || d.points || '分。',
               %(as_of)s, NULL, NULL, 0, NULL
          FROM bench_due d
          JOIN (SELECT unit_id, user_id FROM ({_CARD_RECIPIENTS}) unit_people
                UNION
                SELECT d2.unit_id, o.user_id FROM ({_OFFICE}) o
                 CROSS JOIN (SELECT DISTINCT unit_id FROM bench_due) d2) r
            ON r.unit_id = d.unit_id
        ON CONFLICT DO NOTHING
        """,
        # 6. Reminders: the nearest "N days before" due today, once per node, date and N.
        f"""
        WITH policy AS ({_IN_FORCE.format(day="%(today)s::date")}),
        days AS (
            SELECT DISTINCT (e #>> '{{}}')::int AS d
              FROM policy, jsonb_array_elements(
                  CASE jsonb_typeof(policy.reminder_days) WHEN 'array'
                       THEN policy.reminder_days ELSE '[]'::jsonb END) e
             WHERE jsonb_typeof(e) = 'number' AND (e #>> '{{}}')::numeric BETWEEN 1 AND 60
               AND (e #>> '{{}}')::numeric = trunc((e #>> '{{}}')::numeric)
        ),
        open AS (
            SELECT n.id, n.unit_id, n.name, p.code || ' ' || p.name AS project, u.name AS unit_name,
                   COALESCE(n.committed_due_date, n.due_date) AS due
              FROM projects_node n
              JOIN projects_project p ON p.id = n.project_id
              JOIN organization_unit u ON u.id = n.unit_id
             WHERE n.completed_at IS NULL AND n.archived_at IS NULL
               AND ((n.committed_due_date IS NULL
                     AND n.due_date BETWEEN %(today)s AND %(today)s::date + (SELECT max(d) FROM days))
                    OR n.committed_due_date BETWEEN %(today)s
                                                AND %(today)s::date + (SELECT max(d) FROM days))
        ),
        due AS (
            SELECT o.*, (SELECT min(d) FROM days WHERE d >= o.due - %(today)s::date) AS n_days
              FROM open o
        )
        INSERT INTO supervision_notification
               (recipient_id, kind, event_key, node_id, title, body, created_at, read_at,
                emailed_at, email_attempts, email_next_at)
        SELECT s.user_id, %(reminder)s,
               'reminder:' || due.id || ':' || to_char(due.due, 'YYYYMMDD') || ':' || due.n_days,
               due.id, left(due.project || ' 节点“' || due.name || '”将于' || due.due || '到期', 200),
               '责任单位：' || due.unit_name || '。还剩 ' || (due.due - %(today)s::date)
                   || ' 天，请按时办结。',
               %(as_of)s, NULL, NULL, 0, NULL
          FROM due
          JOIN ({_UNIT_STAFF}) s ON s.unit_id = due.unit_id
         WHERE due.n_days IS NOT NULL
        ON CONFLICT DO NOTHING
        """,
        # 7. Each node's next check: the grace window's end after a card, its own breach
        #    before, never again once done in time or archived.
        f"""
        UPDATE projects_node n
           SET next_escalation_at = CASE
               WHEN n.archived_at IS NOT NULL THEN %(settled)s
               WHEN n.id IN (SELECT node_id FROM bench_due) THEN
                    CASE WHEN n.completed_at < %(grace)s THEN %(settled)s ELSE %(grace)s END
               WHEN n.completed_at < {_BREACH} THEN %(settled)s
               ELSE {_BREACH} END
         WHERE n.next_escalation_at IS NULL
            OR (n.next_escalation_at <= %(as_of)s AND n.archived_at IS NULL)
        """,
        # 8. The run's own row.
        """
        INSERT INTO supervision_sweeprun
               (started_at, finished_at, as_of, yellow, red, items, notifications,
                nodes_checked, error, host)
        SELECT now(), now(), %(as_of)s, (SELECT count(*) FROM bench_due), 0, 0,
               (SELECT count(*) FROM supervision_notification WHERE created_at = %(as_of)s),
               0, '', 'floor'
        """,
    ]
    counter = Counter()
    with connection.execute_wrapper(counter):
        params["grace"] = _grace_breach(as_of)
        with transaction.atomic(), connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql, params)
    return counter.queries


def sweep_noop(*, as_of: dt.datetime) -> int:
    """What a sweep with nothing to do must read: the nodes never worked out, the nodes whose
    check has come, the reminders' candidates. Returns the number of queries."""
    today = clock.local_date(as_of)
    counter = Counter()
    with connection.execute_wrapper(counter), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM projects_node WHERE next_escalation_at IS NULL ORDER BY id LIMIT 500"
        )
        cursor.fetchall()
        cursor.execute(
            "SELECT id FROM projects_node WHERE next_escalation_at <= %s AND archived_at IS NULL"
            " ORDER BY next_escalation_at, id",
            [as_of],
        )
        cursor.fetchall()
        # The reminders' candidates, without those already sent (by their event key).
        cursor.execute(
            """
            SELECT c.id, c.unit_id, c.key
              FROM (SELECT n.id, n.unit_id,
                           'reminder:' || n.id || ':'
                               || to_char(COALESCE(n.committed_due_date, n.due_date), 'YYYYMMDD')
                               || ':' || CASE WHEN COALESCE(n.committed_due_date, n.due_date)
                                                   - %(today)s::date <= 1 THEN 1 ELSE 3 END
                               AS key
                      FROM projects_node n
                     WHERE n.completed_at IS NULL AND n.archived_at IS NULL
                       AND ((n.committed_due_date IS NULL
                             AND n.due_date BETWEEN %(today)s AND %(end)s)
                            OR n.committed_due_date BETWEEN %(today)s AND %(end)s)) c
             WHERE NOT EXISTS (SELECT 1 FROM supervision_notification s WHERE s.event_key = c.key)
            """,
            {"today": today, "end": today + dt.timedelta(days=3)},
        )
        cursor.fetchall()
    return counter.queries


_CARD_OF = """
    (SELECT c.kind FROM supervision_card c
      WHERE c.node_id = n.id AND c.revoked_at IS NULL
      ORDER BY c.kind = 'red' DESC LIMIT 1)
"""

_COVERED = """
    n.project_id IN (
        SELECT id FROM projects_project WHERE leader_id = %(user)s
        UNION SELECT project_id FROM organization_coverage
               WHERE leader_id = %(user)s AND project_id IS NOT NULL
        UNION SELECT p.id FROM projects_project p
                JOIN organization_coverage c ON c.locality_id = p.locality_id
               WHERE c.leader_id = %(user)s
        UNION SELECT p.id FROM projects_project p
                JOIN organization_coverage c ON c.enterprise_id = p.enterprise_id
               WHERE c.leader_id = %(user)s)
"""


def node_list_sql(*, user_id: int, sees_all: bool) -> tuple[str, str]:
    """The count and the first page (50 rows, wall-chart order, with the card colour) of the
    nodes a user sees: all for the office, else their units' plus their covered projects'."""
    where = "TRUE" if sees_all else f"(n.unit_id = ANY(%(units)s) OR {_COVERED})"
    count = f"SELECT count(*) FROM projects_node n WHERE {where}"
    page = f"""
        SELECT n.id, p.code, n.seq, n.name, u.name, n.owner, n.due_date, n.committed_due_date,
               n.completed_at, n.progress, {_CARD_OF} AS card
          FROM projects_node n
          JOIN projects_project p ON p.id = n.project_id
          JOIN organization_unit u ON u.id = n.unit_id
         WHERE {where}
         ORDER BY p.code, n.seq, n.id
         LIMIT 50
    """
    return count, page


def node_list(*, user_id: int) -> int:
    """The node list's page as hand-written SQL: the user's roles, the count, the page."""
    counter = Counter()
    with connection.execute_wrapper(counter), connection.cursor() as cursor:
        cursor.execute(
            "SELECT role, unit_id FROM organization_roleassignment WHERE user_id = %s", [user_id]
        )
        roles = cursor.fetchall()
        sees_all = any(role in ("principal", "supervisor") for role, _unit in roles)
        units = [unit for role, unit in roles if role in ("staff", "leader")]
        count, page = node_list_sql(user_id=user_id, sees_all=sees_all)
        params = {"user": user_id, "units": units}
        cursor.execute(count, params)
        cursor.fetchone()
        cursor.execute(page, params)
        rows = cursor.fetchall()
    assert len(rows) == 50, f"the floor's page has {len(rows)} rows, not 50"
    return counter.queries


def dashboard(*, user) -> int:
    """The dashboard's figures (office: everything) aggregated in the database: node lights
    by unit and locality (GROUP BY over the app's own light expression), this year's cards by
    week, unit and locality, the open supervision items by age, unit and locality."""
    from django.db.models import Count

    from projects.models import Node
    from supervision.selectors import nodes_with_light

    today = clock.today()
    counter = Counter()
    with connection.execute_wrapper(counter):
        lights = (
            nodes_with_light(
                Node.objects.visible_to(user).filter(
                    archived_at__isnull=True, project__archived_at__isnull=True
                ),
                today=today,
            )
            .order_by()
            .values(
                "light", "unit_id", "unit__name", "project__locality_id", "project__locality__name"
            )
            .annotate(n=Count("pk"))
        )
        list(lights)
        params = {
            "tz": clock.local_tz().key,
            "first": clock.start_of_day(dt.date(today.year, 1, 1)),
            "today": today,
        }
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT c.kind, date_trunc('week', c.breached_at AT TIME ZONE %(tz)s) AS week,
                       c.unit_id, u.name, p.locality_id, l.name, count(*)
                  FROM supervision_card c
                  JOIN projects_node n ON n.id = c.node_id
                  JOIN projects_project p ON p.id = n.project_id
                  JOIN organization_unit u ON u.id = c.unit_id
                  JOIN organization_unit l ON l.id = p.locality_id
                 WHERE c.revoked_at IS NULL AND c.breached_at >= %(first)s
                   AND n.archived_at IS NULL AND p.archived_at IS NULL
                 GROUP BY 1, 2, 3, 4, 5, 6
                """,
                params,
            )
            cursor.fetchall()
            cursor.execute(
                """
                SELECT %(today)s::date - (i.opened_at AT TIME ZONE %(tz)s)::date AS days,
                       i.unit_id, u.name, p.locality_id, l.name, count(*)
                  FROM supervision_supervisionitem i
                  JOIN projects_node n ON n.id = i.node_id
                  JOIN projects_project p ON p.id = n.project_id
                  JOIN organization_unit u ON u.id = i.unit_id
                  JOIN organization_unit l ON l.id = p.locality_id
                 WHERE i.closed_at IS NULL AND n.archived_at IS NULL AND p.archived_at IS NULL
                 GROUP BY 1, 2, 3, 4, 5
                """,
                params,
            )
            cursor.fetchall()
    return counter.queries
