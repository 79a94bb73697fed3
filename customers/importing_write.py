"""The write half of an import, done by the database: the checked rows are copied into a
temporary table, and three set-based statements insert the new customers, update the changed
ones (only where a mapped value differs, so an unchanged row is not touched) and add the missing
tag links. Runs inside the caller's transaction; COPY on PostgreSQL, executemany on SQLite."""

import json
from collections.abc import Callable

import pandas as pd
from django.db import connection
from django.utils import timezone

from core.bulk import analyze_after_bulk_write, copy_rows

from .models import Customer, CustomerTag, Gender, LifecycleStage, Tag

FIELD_COLUMNS = {  # import column -> (SQL type on PostgreSQL, SQLite), default for a new row
    "name": ("text", "text", ""), "phone": ("text", "text", ""), "email": ("text", "text", ""),
    "gender": ("text", "text", Gender.UNKNOWN), "birth_date": ("date", "date", None),
    "branch_id": ("bigint", "integer", None), "owner_id": ("bigint", "integer", None),
    "assets": ("numeric(16,2)", "decimal", 0), "risk_level": ("smallint", "integer", None),
    "lifecycle_stage": ("text", "text", LifecycleStage.POTENTIAL),
}


def write_customers(out: pd.DataFrame, pairs: pd.DataFrame, *, by=None,
                    progress: Callable[[int], None]) -> tuple[int, int, int, int]:
    """Upsert the checked rows and their tags; returns (created, updated, unchanged, links)."""
    postgres = connection.vendor == "postgresql"
    quote = connection.ops.quote_name
    customers, links = quote(Customer._meta.db_table), quote(CustomerTag._meta.db_table)
    fields = [name for name in FIELD_COLUMNS if name in out.columns]
    has_extra = "extra" in out.columns
    now = connection.ops.adapt_datetimefield_value(timezone.now())

    staged = _staged_frame(out, fields, has_extra)
    columns = ["external_id", *fields] + (["extra"] if has_extra else [])
    types = {"external_id": "text", **{name: FIELD_COLUMNS[name][0 if postgres else 1] for name in fields}}
    if has_extra:
        types["extra"] = "jsonb" if postgres else "text"
    with connection.cursor() as cursor:
        if postgres:
            # Room for the hash joins of a million-row file (this transaction only).
            cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("DROP TABLE IF EXISTS import_rows")
        cursor.execute("CREATE TEMPORARY TABLE import_rows ({})".format(
            ", ".join(f"{quote(name)} {types[name]}" for name in columns)))
        copy_rows("import_rows", columns, staged)
        if postgres:
            cursor.execute("ANALYZE import_rows")

        # 1. New customers: every mapped value, defaults for the rest.
        insert_columns = ["external_id", *FIELD_COLUMNS, "do_not_contact", "opted_out_channels", "extra",
                          "created_at", "updated_at"]
        select_values = ["r.external_id"]
        params = []
        for name, (_pg, _lite, default) in FIELD_COLUMNS.items():
            if name in fields:
                select_values.append(f"r.{quote(name)}")
            else:
                select_values.append("%s")
                params.append(default)
        select_values += ["%s", "%s", "r.extra" if has_extra else "%s", "%s", "%s"]
        params += [False, "[]"] + ([] if has_extra else ["{}"]) + [now, now]
        created = _execute(
            cursor,
            f"INSERT INTO {customers} ({', '.join(quote(c) for c in insert_columns)}) "
            f"SELECT {', '.join(select_values)} FROM import_rows r "
            f"WHERE true ON CONFLICT (external_id) DO NOTHING",
            params,
        )
        progress(created)

        # 2. Changed customers: only where a mapped value differs; extras are merged, never replaced.
        distinct = "IS DISTINCT FROM" if postgres else "IS NOT"
        merged_extra = "c.extra || r.extra" if postgres else "json_patch(c.extra, r.extra)"
        differs = [f"c.{quote(name)} {distinct} r.{quote(name)}" for name in fields]
        assignments = [f"{quote(name)} = r.{quote(name)}" for name in fields]
        if has_extra:
            differs.append(f"{merged_extra} {distinct} c.extra" if postgres
                           else f"json({merged_extra}) IS NOT json(c.extra)")
            assignments.append(f"extra = {merged_extra}")
        updated = 0
        if differs:
            if postgres:
                sql = (f"UPDATE {customers} AS c SET {', '.join(assignments)}, updated_at = %s FROM import_rows r "
                       f"WHERE c.external_id = r.external_id AND ({' OR '.join(differs)})")
            else:
                # SQLite's UPDATE … FROM cannot alias its target, so the target is joined again as c.
                sql = (f"UPDATE {customers} SET {', '.join(assignments)}, updated_at = %s "
                       f"FROM import_rows r JOIN {customers} c ON c.external_id = r.external_id "
                       f"WHERE c.id = {customers}.id AND ({' OR '.join(differs)})")
            updated = _execute(cursor, sql, [now])

        # 3. Missing tag links (imports add tags, never remove them).
        links_added = 0
        if not pairs.empty:
            cursor.execute("DROP TABLE IF EXISTS import_links")
            cursor.execute("CREATE TEMPORARY TABLE import_links (external_id text, tag_id bigint)")
            link_frame = pd.DataFrame({"external_id": out["external_id"].to_numpy()[pairs["row"].to_numpy()],
                                       "tag_id": pairs["tag_id"].astype("int64").to_numpy()})
            copy_rows("import_links", ["external_id", "tag_id"], link_frame)
            links_added = _execute(
                cursor,
                f"INSERT INTO {links} (customer_id, tag_id, source, added_by_id, added_at) "
                f"SELECT c.id, l.tag_id, %s, %s, %s FROM import_links l JOIN {customers} c ON c.external_id = l.external_id "
                f"WHERE true ON CONFLICT (customer_id, tag_id) DO NOTHING",
                [Tag.Source.IMPORT, by.pk if by else None, now],
            )
            cursor.execute("DROP TABLE import_links")
        cursor.execute("DROP TABLE import_rows")
    analyze_after_bulk_write(customers, links, changed=created + updated + links_added)
    progress(len(out))
    return created, updated, len(out) - created - updated, links_added


def _staged_frame(out: pd.DataFrame, fields: list[str], has_extra: bool) -> pd.DataFrame:
    """The rows as the temporary table takes them: exact decimals, nullable integers, JSON text."""
    frame = pd.DataFrame({"external_id": out["external_id"].to_numpy()})
    for name in fields:
        values = out[name]
        if name == "assets":
            frame[name] = pd.to_numeric(values).map(lambda value: f"{value:.2f}").to_numpy()
        elif name in ("branch_id", "owner_id", "risk_level"):
            frame[name] = values.astype("Int64").array
        else:
            frame[name] = values.to_numpy()
    if has_extra:
        frame["extra"] = [json.dumps(value, ensure_ascii=False, sort_keys=True) for value in out["extra"]]
    return frame


def _execute(cursor, sql: str, params: list) -> int:
    """Run a set-based write; returns the rows it affected (the change feed's triggers log which)."""
    cursor.execute(sql, params)
    return max(cursor.rowcount, 0)
