"""Inserting many rows at once, skipping those a unique constraint already holds."""

from django.db import connection, models

# SQLite (3.32+) takes 32766 bound parameters in one statement, PostgreSQL 65535.
_PARAMS_MAX = 30_000


def rows_insert_new(
    objs: list[models.Model], *, returning: tuple[str, ...] = ("id",)
) -> list[tuple]:
    """Insert the rows no other process has inserted meanwhile; the columns `returning` of
    each row this call wrote, and none for a row a unique constraint turned away.

    ``bulk_create(ignore_conflicts=True)`` cannot tell which rows were written, so a caller
    would count another process's rows as its own: ``ON CONFLICT DO NOTHING RETURNING``
    (PostgreSQL, SQLite 3.35+) answers with the rows actually written. On PostgreSQL the
    rows go as one array per column (``unnest``), so the statement stays short. The primary
    key is not set on `objs`; callers match the returned columns to their objects.
    """
    if not objs:
        return []
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, _PARAMS_MAX // len(fields))
    columns = ", ".join(qn(f.column) for f in fields)
    back = ", ".join(qn(meta.get_field(name).column) for name in returning)
    written: list[tuple] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One array per column: a short statement whatever the rows, which the driver
            # neither splits nor quotes row by row.
            arrays = ", ".join(f"%s::{f.cast_db_type(connection)}[]" for f in fields)
            cursor.execute(
                f"INSERT INTO {qn(meta.db_table)} ({columns}) SELECT * FROM unnest({arrays}) "
                f"ON CONFLICT DO NOTHING RETURNING {back}",
                [
                    [f.get_db_prep_save(f.pre_save(obj, add=True), connection) for obj in objs]
                    for f in fields
                ],
            )
            return [tuple(r) for r in cursor.fetchall()]
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            params = [
                f.get_db_prep_save(f.pre_save(obj, add=True), connection)
                for obj in chunk
                for f in fields
            ]
            cursor.execute(
                f"INSERT INTO {qn(meta.db_table)} ({columns}) "
                f"VALUES {', '.join([row] * len(chunk))} "
                f"ON CONFLICT DO NOTHING RETURNING {back}",
                params,
            )
            written.extend(tuple(r) for r in cursor.fetchall())
    return written


def column_update(model: type[models.Model], field: str, values: dict) -> int:
    """Set one column of many rows, each to its own value, with one UPDATE ... FROM
    (PostgreSQL: two arrays; SQLite 3.33+: a VALUES list per few thousand rows): Django's
    ``bulk_update`` builds a CASE with a branch per row, slow to compile and to run."""
    if not values:
        return 0
    meta = model._meta
    target = meta.get_field(field)
    qn = connection.ops.quote_name
    row = "(%s, %s)"
    items = list(values.items())
    updated = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # two arrays: a short statement
            pk_type, value_type = meta.pk.cast_db_type(connection), target.cast_db_type(connection)
            cursor.execute(
                f"UPDATE {qn(meta.db_table)} SET {qn(target.column)} = v.value "
                f"FROM unnest(%s::{pk_type}[], %s::{value_type}[]) AS v (id, value) "
                f"WHERE {qn(meta.db_table)}.{qn(meta.pk.column)} = v.id",
                [
                    [pk for pk, _ in items],
                    [target.get_db_prep_save(value, connection) for _, value in items],
                ],
            )
            return cursor.rowcount
        for start in range(0, len(items), _PARAMS_MAX // 2):
            chunk = items[start : start + _PARAMS_MAX // 2]
            params = [
                p for pk, value in chunk for p in (pk, target.get_db_prep_save(value, connection))
            ]
            cursor.execute(
                f"WITH v (id, value) AS (VALUES {', '.join([row] * len(chunk))}) "
                f"UPDATE {qn(meta.db_table)} SET {qn(target.column)} = v.value "
                f"FROM v WHERE {qn(meta.db_table)}.{qn(meta.pk.column)} = v.id",
                params,
            )
            updated += cursor.rowcount
    return updated
