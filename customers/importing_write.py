"""The write half of an import: classify rows as new / changed / unchanged, then write
each group set-based (COPY on PostgreSQL) inside the caller's transaction."""

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
from django.db import connection
from django.utils import timezone

from core.bulk import copy_rows

from .models import Customer, CustomerTag, Gender, LifecycleStage, Tag
from .services import record_change

LOOKUP_CHUNK = 5_000
COMPARED_FIELDS = ("name", "phone", "email", "gender", "birth_date", "branch_id", "owner_id",
                   "assets", "risk_level", "lifecycle_stage")
NEW_ROW_DEFAULTS = {
    "name": "", "phone": "", "email": "", "gender": Gender.UNKNOWN, "birth_date": None,
    "branch_id": None, "owner_id": None, "assets": 0.0, "risk_level": None,
    "lifecycle_stage": LifecycleStage.POTENTIAL, "do_not_contact": False,
}


def write_customers(out: pd.DataFrame, pairs: pd.DataFrame, *, by=None,
                    progress: Callable[[int], None]) -> tuple[int, int, int, int]:
    """Upsert the checked rows and their tags; returns (created, updated, unchanged, links)."""
    existing = _existing(out["external_id"].tolist())
    out = out.merge(existing, on="external_id", how="left", suffixes=("", "_old"))
    is_new = out["id"].isna().to_numpy()
    fields = [name for name in COMPARED_FIELDS if name in out.columns]
    changed = np.zeros(len(out), dtype=bool)
    known = out[~is_new]  # only rows that exist already can be changed or unchanged
    for name in fields:
        changed[~is_new] |= (_comparable(known[name]) != _comparable(known[f"{name}_old"])).to_numpy()
    if "extra" in out.columns:
        # Imported extras are merged into what the customer already has, never replace it.
        olds = [old if isinstance(old, dict) else {} for old in known["extra_old"]]
        merged = [{**old, **new} for new, old in zip(known["extra"], olds, strict=True)]
        changed[~is_new] |= np.array([new != old for new, old in zip(merged, olds, strict=True)], dtype=bool)
        out.loc[~is_new, "extra"] = pd.Series(merged, index=known.index, dtype=object)
    now = connection.ops.adapt_datetimefield_value(timezone.now())

    created = _insert_new(out[is_new], fields, now)
    progress(int(is_new.sum()))
    _update_changed(out[changed], fields, now)
    ids = out["id"].copy()
    if created is not None and len(created):
        ids[is_new] = out.loc[is_new, "external_id"].map(created).to_numpy()
    links = _insert_links(pairs.assign(customer_id=ids.to_numpy()[pairs["row"].to_numpy()]), is_new, by, now)
    progress(len(out))

    touched = set(ids[is_new | changed].astype(int))
    if links:
        touched.update(ids.to_numpy()[pairs["row"].to_numpy()].astype(int).tolist())
    if touched:
        record_change(touched)
    return int(is_new.sum()), int(changed.sum()), int((~is_new & ~changed).sum()), links


def _existing(external_ids: list[str]) -> pd.DataFrame:
    columns = ["id", "external_id", *COMPARED_FIELDS, "extra"]
    rows = []
    for start in range(0, len(external_ids), LOOKUP_CHUNK):
        chunk = external_ids[start:start + LOOKUP_CHUNK]
        rows.extend(Customer.objects.filter(external_id__in=chunk).values_list(*columns))
    frame = pd.DataFrame(rows, columns=columns)
    return frame.rename(columns={name: f"{name}_old" for name in (*COMPARED_FIELDS, "extra")})


def _comparable(values: pd.Series) -> pd.Series:
    """Values as text, so a Decimal 12.50 and a float 12.5 or NULL and NA compare equal."""
    def text(value):
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return ""
        if isinstance(value, (float, int, np.integer, np.floating)) and not isinstance(value, bool):
            return f"{float(value):.2f}"
        try:
            return f"{float(value):.2f}" if type(value).__name__ == "Decimal" else str(value)
        except (TypeError, ValueError):
            return str(value)
    return values.map(text)


def _rows_for_write(rows: pd.DataFrame, fields: list[str], now) -> pd.DataFrame:
    frame = pd.DataFrame({"external_id": rows["external_id"].to_numpy()})
    for name, default in NEW_ROW_DEFAULTS.items():
        frame[name] = rows[name].to_numpy() if name in fields else default
    frame["assets"] = pd.to_numeric(frame["assets"]).map(lambda value: f"{value:.2f}")
    frame["risk_level"] = frame["risk_level"].astype("Int64")
    frame["branch_id"] = frame["branch_id"].astype("Int64")
    frame["owner_id"] = frame["owner_id"].astype("Int64")
    frame["do_not_contact"] = frame["do_not_contact"].map(lambda flag: "t" if flag else "f") \
        if connection.vendor == "postgresql" else frame["do_not_contact"].astype(int)
    frame["opted_out_channels"] = "[]"
    extra = rows["extra"] if "extra" in rows.columns else pd.Series([{}] * len(rows))
    frame["extra"] = [json.dumps(value, ensure_ascii=False) for value in extra]
    frame["created_at"] = now
    frame["updated_at"] = now
    return frame


def _insert_new(rows: pd.DataFrame, fields: list[str], now) -> dict[str, int] | None:
    if rows.empty:
        return None
    frame = _rows_for_write(rows, fields, now)
    copy_rows(Customer._meta.db_table, list(frame.columns), frame)
    created = {}
    external_ids = frame["external_id"].tolist()
    for start in range(0, len(external_ids), LOOKUP_CHUNK):
        chunk = external_ids[start:start + LOOKUP_CHUNK]
        created.update(Customer.objects.filter(external_id__in=chunk).values_list("external_id", "id"))
    return created


def _update_changed(rows: pd.DataFrame, fields: list[str], now) -> None:
    """Write the changed rows' mapped fields: a temporary table and one UPDATE … FROM."""
    if rows.empty:
        return
    table = Customer._meta.db_table
    frame = _rows_for_write(rows, fields, now)
    frame["id"] = rows["id"].astype(int).to_numpy()
    if "extra" not in rows.columns:
        frame = frame.drop(columns=["extra"])
    written = [name for name in (*fields, "extra") if name in frame.columns]
    quote = connection.ops.quote_name
    types = {name: _sql_type(name) for name in ["id", *written]}
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS import_changed")
        cursor.execute("CREATE TEMPORARY TABLE import_changed ({})".format(
            ", ".join(f"{quote(name)} {kind}" for name, kind in types.items())))
        copy_rows("import_changed", ["id", *written], frame)
        assignments = ", ".join(f"{quote(name)} = import_changed.{quote(name)}" for name in written)
        cursor.execute(
            f"UPDATE {quote(table)} SET {assignments}, updated_at = %s FROM import_changed "
            f"WHERE {quote(table)}.id = import_changed.id", [now],
        )
        cursor.execute("DROP TABLE import_changed")


def _sql_type(name: str) -> str:
    postgres = connection.vendor == "postgresql"
    return {
        "id": "bigint", "branch_id": "bigint", "owner_id": "bigint", "risk_level": "smallint",
        "assets": "numeric(16,2)", "birth_date": "date",
        "extra": "jsonb" if postgres else "text",
    }.get(name, "text")


def _insert_links(pairs: pd.DataFrame, is_new: np.ndarray, by, now) -> int:
    """Insert the (customer, tag) links that do not exist yet; imports only ever add tags."""
    if pairs.empty:
        return 0
    pairs = pairs.astype({"customer_id": "int64", "tag_id": "int64"})
    for_existing = pairs[~is_new[pairs["row"].to_numpy()]]
    if not for_existing.empty:
        known = set()
        customer_ids = sorted(set(for_existing["customer_id"]))
        tag_ids = sorted(set(for_existing["tag_id"]))
        for start in range(0, len(customer_ids), LOOKUP_CHUNK):
            known.update(CustomerTag.objects.filter(
                customer_id__in=customer_ids[start:start + LOOKUP_CHUNK], tag_id__in=tag_ids,
            ).values_list("customer_id", "tag_id"))
        if known:
            known_frame = pd.DataFrame(list(known), columns=["customer_id", "tag_id"]).assign(_known=True)
            pairs = pairs.merge(known_frame, on=["customer_id", "tag_id"], how="left")
            pairs = pairs[pairs["_known"].isna()]
    frame = pd.DataFrame({
        "customer_id": pairs["customer_id"].to_numpy(), "tag_id": pairs["tag_id"].to_numpy(),
        "source": Tag.Source.IMPORT, "added_by_id": pd.array([by.pk if by else None] * len(pairs), dtype="Int64"),
        "added_at": now,
    })
    return copy_rows(CustomerTag._meta.db_table, list(frame.columns), frame)
