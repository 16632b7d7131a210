"""Inserting many rows at once, skipping those a unique constraint already holds."""

from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.utils import timezone

# SQLite (3.32+) takes 32766 bound parameters in one statement, PostgreSQL 65535.
_PARAMS_MAX = 30_000


def _cursor():
    """A cursor for the bulk statements. On PostgreSQL it binds its parameters on the server,
    so the driver sends each column's array in its binary format instead of quoting every
    value into text (Django's cursors bind on the client); it goes through Django's wrapper,
    so query logging and execute wrappers see its statements as any other."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    import psycopg

    connection.ensure_connection()
    return connection._prepare_cursor(psycopg.Cursor(connection.connection))


def rows_insert(
    model: type[models.Model],
    rows: list[dict],
    *,
    returning: tuple[str, ...] = (),
    skip_conflicts: bool = False,
) -> list[tuple]:
    """Insert rows given as ``{attname: value}`` (a field left out takes its default), with
    no model instance per row: the columns `returning` of each row written.

    With `skip_conflicts`, a row a unique constraint turns away is skipped (``ON CONFLICT DO
    NOTHING``) and not returned: ``bulk_create(ignore_conflicts=True)`` cannot tell which
    rows were written, so a caller would count another process's rows as its own. On
    PostgreSQL the rows go as one array per column (``unnest``): a short statement whatever
    their number, which the driver neither splits nor quotes row by row, and values it
    adapts itself (JSON aside) are passed as they are.
    """
    if not rows:
        return []
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    qn = connection.ops.quote_name
    table, columns = qn(meta.db_table), ", ".join(qn(f.column) for f in fields)
    tail = " ON CONFLICT DO NOTHING" if skip_conflicts else ""
    if returning:
        tail += " RETURNING " + ", ".join(qn(meta.get_field(n).column) for n in returning)
    postgres = connection.vendor == "postgresql"
    arrays = []
    for f in fields:
        default = f.get_default()
        values = [row.get(f.attname, default) for row in rows]
        if not postgres or f.get_internal_type() == "JSONField":
            values = [f.get_db_prep_save(v, connection) for v in values]
        arrays.append(values)
    written: list[tuple] = []
    with _cursor() as cursor:
        if postgres:
            casts = ", ".join(f"%b::{f.cast_db_type(connection)}[]" for f in fields)
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({casts}){tail}", arrays
            )
            return [tuple(r) for r in cursor.fetchall()] if returning else []
        placeholders = "(" + ", ".join(["%s"] * len(fields)) + ")"
        per_statement = max(1, _PARAMS_MAX // len(fields))
        for start in range(0, len(rows), per_statement):
            end = min(start + per_statement, len(rows))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) "
                f"VALUES {', '.join([placeholders] * (end - start))}{tail}",
                [column[i] for i in range(start, end) for column in arrays],
            )
            if returning:
                written.extend(tuple(r) for r in cursor.fetchall())
    return written


def rows_insert_new(
    objs: list[models.Model], *, returning: tuple[str, ...] = ("id",)
) -> list[tuple]:
    """Insert model instances no other process has inserted meanwhile (rows_insert with
    skip_conflicts); the primary key is not set on `objs`: callers match the returned
    columns to their objects."""
    if not objs:
        return []
    fields = [f for f in objs[0]._meta.concrete_fields if not f.primary_key]
    return rows_insert(
        type(objs[0]),
        [{f.attname: f.pre_save(obj, add=True) for f in fields} for obj in objs],
        returning=returning,
        skip_conflicts=True,
    )


def history_rows_insert(
    objs: list[models.Model], *, user, reason: str | None, history_type: str = "+"
) -> None:
    """The django-simple-history rows of saved instances, as its bulk_history_create writes
    them (the fields' values, when, by whom, why), with no historical instance per row."""
    if not objs:
        return
    history = type(objs[0]).history.model
    when = timezone.now()
    user_id = getattr(user, "pk", user)
    rows_insert(
        history,
        [
            {
                **{f.attname: getattr(obj, f.attname) for f in history.tracked_fields},
                "history_date": when,
                "history_user_id": user_id,
                "history_change_reason": reason,
                "history_type": history_type,
            }
            for obj in objs
        ],
    )


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
    with _cursor() as cursor:
        if connection.vendor == "postgresql":  # two arrays: a short statement
            pk_type, value_type = meta.pk.cast_db_type(connection), target.cast_db_type(connection)
            cursor.execute(
                f"UPDATE {qn(meta.db_table)} SET {qn(target.column)} = v.value "
                f"FROM unnest(%b::{pk_type}[], %b::{value_type}[]) AS v (id, value) "
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


def many(values: list, *, cast: str):
    """The right side of an ``__in`` lookup on many values: on PostgreSQL one array
    parameter (``IN (SELECT unnest(%s::cast[]))``), a short statement whatever their number
    that the planner still answers from an index; elsewhere the list itself."""
    if connection.vendor != "postgresql":
        return list(values)
    return RawSQL(f"SELECT unnest(%s::{cast}[])", (list(values),))
