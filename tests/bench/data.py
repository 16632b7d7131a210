"""The data a benchmark runs on: demo's generate_scale where it exists, else the stand-in."""

import datetime as dt
import importlib.util


def real_generator() -> bool:
    """Whether demo.scale (the generate_scale command's module) is there."""
    return importlib.util.find_spec("demo.scale") is not None


def data_generate(
    *, projects: int, nodes_per_project: int, overdue_fraction: float, seed: int, today: dt.date
) -> None:
    """Write the data set in-process (the smoke test); the bench runs the command instead."""
    if real_generator():
        from demo.scale import scale_generate

        scale_generate(
            projects=projects,
            nodes_per_project=nodes_per_project,
            overdue_fraction=overdue_fraction,
            seed=seed,
            today=today,
        )
    else:
        from .standin import generate

        generate(
            projects=projects,
            nodes_per_project=nodes_per_project,
            overdue_fraction=overdue_fraction,
            seed=seed,
            today=today,
        )
