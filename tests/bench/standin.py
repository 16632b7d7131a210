"""A stand-in for `manage.py generate_scale` (demo), with the same interface and users.

    python -m tests.bench.standin --projects P --nodes-per-project 20 --overdue-fraction 0.01
        --seed 1 [--today YYYY-MM-DD]

Used while the real command is missing (see __main__.generate). Bulk inserts, no history
rows: about 1% of the nodes are past their date and not done (the sweep cards them), the
other past ones were done on time, the rest are due within the next year.
"""

import argparse
import datetime as dt
import random

from .config import OFFICE_USERNAME, STAFF_USERNAME
from .django_env import setup

DEPARTMENTS = 30
LOCALITIES = 20
STAFF_PER_UNIT = 2


def generate(
    *,
    projects: int,
    nodes_per_project: int,
    overdue_fraction: float,
    seed: int,
    today: dt.date | None = None,
) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from core import clock
    from organization.choices import Role, UnitKind
    from organization.models import RoleAssignment, Unit, User
    from projects.models import Node, Project

    rng = random.Random(seed)
    today = today or clock.today()
    tz = clock.local_tz()
    with transaction.atomic():
        units = Unit.objects.bulk_create(
            [Unit(name=f"规模部门{i:02d}", kind=UnitKind.DEPARTMENT) for i in range(DEPARTMENTS)]
            + [Unit(name=f"规模乡镇{i:02d}", kind=UnitKind.TOWNSHIP) for i in range(LOCALITIES)]
        )
        departments, localities = units[:DEPARTMENTS], units[DEPARTMENTS:]
        unusable = make_password(None)
        people: list[tuple[User, str, Unit | None]] = []
        for unit in units:
            for k in range(STAFF_PER_UNIT):
                people.append(
                    (
                        User(
                            username=f"scale-s{unit.pk}-{k}",
                            email=f"s{unit.pk}_{k}@scale.invalid",
                            password=unusable,
                        ),
                        Role.STAFF,
                        unit,
                    )
                )
            people.append(
                (
                    User(
                        username=f"scale-l{unit.pk}",
                        email=f"l{unit.pk}@scale.invalid",
                        password=unusable,
                    ),
                    Role.LEADER,
                    unit,
                )
            )
        people.append(
            (
                User(username=STAFF_USERNAME, email="staff@scale.invalid", password=unusable),
                Role.STAFF,
                departments[0],
            )
        )
        people.append(
            (
                User(username=OFFICE_USERNAME, email="office@scale.invalid", password=unusable),
                Role.SUPERVISOR,
                None,
            )
        )
        for k in range(2):
            people.append(
                (
                    User(
                        username=f"scale-office-{k}",
                        email=f"office{k}@scale.invalid",
                        password=unusable,
                    ),
                    Role.SUPERVISOR,
                    None,
                )
            )
        User.objects.bulk_create([user for user, _role, _unit in people])
        RoleAssignment.objects.bulk_create(
            [RoleAssignment(user=user, role=role, unit=unit) for user, role, unit in people]
        )
        project_rows = Project.objects.bulk_create(
            [
                Project(
                    code=f"GM{i:06d}",
                    name=f"规模项目{i}",
                    locality=localities[i % LOCALITIES],
                    start_date=today - dt.timedelta(days=rng.randint(0, 300)),
                )
                for i in range(projects)
            ],
            batch_size=5000,
        )
    batch: list[Node] = []
    for project in project_rows:
        for seq in range(1, nodes_per_project + 1):
            unit = (
                project.locality
                if seq % 5 == 0
                else departments[(project.pk * 7 + seq) % DEPARTMENTS]
            )
            due = project.start_date + dt.timedelta(days=seq * 20)
            completed_at = None
            progress = rng.randint(0, 90)
            if rng.random() < overdue_fraction:
                due = today - dt.timedelta(days=rng.randint(1, 30))
            elif due < today:
                completed_at = dt.datetime.combine(due, dt.time(10), tzinfo=tz)
                progress = 100
            batch.append(
                Node(
                    project=project,
                    seq=seq,
                    name=f"节点{seq}",
                    unit=unit,
                    due_date=due,
                    completed_at=completed_at,
                    progress=progress,
                )
            )
        if len(batch) >= 20000:
            Node.objects.bulk_create(batch, batch_size=5000)
            batch = []
    if batch:
        Node.objects.bulk_create(batch, batch_size=5000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", type=int, required=True)
    parser.add_argument("--nodes-per-project", type=int, default=20)
    parser.add_argument("--overdue-fraction", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None)
    args = parser.parse_args()
    setup()
    generate(
        projects=args.projects,
        nodes_per_project=args.nodes_per_project,
        overdue_fraction=args.overdue_fraction,
        seed=args.seed,
        today=args.today,
    )


if __name__ == "__main__":
    main()
