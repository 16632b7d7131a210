"""The data a benchmark runs on: demo's generate_scale."""

import datetime as dt

from demo.scale import scale_generate


def data_generate(
    *, projects: int, nodes_per_project: int, overdue_fraction: float, seed: int, today: dt.date
) -> None:
    """Write the data set in-process (the smoke test); the bench runs the command instead."""
    scale_generate(
        projects=projects,
        nodes_per_project=nodes_per_project,
        overdue_fraction=overdue_fraction,
        seed=seed,
        today=today,
    )
