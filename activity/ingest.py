"""The one activity ingestion engine behind `manage.py import_activity`, the upload job and the batch API.

Every way in hands over a frame of text cells (a file's rows, or an API batch's items) and gets a
report back. Whole columns are checked at once (pandas); a row with any problem is rejected and
reported with its row, column and value, an unknown customer or product included; the valid rows
are written in one transaction, set-based:
- transactions and events are inserted once per external id (`ON CONFLICT DO NOTHING`): an id
  already stored, or repeated in the same batch, is a duplicate and never a second row, so a
  retried request or a redelivered job after a killed worker can neither duplicate nor lose one;
- holdings are upserted by (customer, product, as_of), products by code.
"""

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.faults import pause_for_failure_tests
from core.services import enqueue, enqueue_coalesced
from core.validators import CONTROL_CHARACTERS, refuse_unstorable_json
from customers.importing import ImportFileError, RowErrors
from customers.models import Customer

from . import ingest_write, signals
from .models import KINDS_NEEDING_PRODUCT, Event, Product, ProductStatus, ProductType, TransactionKind

KINDS = ("products", "holdings", "transactions", "events")
COLUMNS = {  # DESIGN.md ("Activity data"): the columns of each kind, required ones first
    "products": ("code", "name", "type", "risk_level", "term_days", "min_amount", "launch_date", "maturity_date",
                 "status"),
    "holdings": ("customer_external_id", "product_code", "amount", "as_of"),
    "transactions": ("external_id", "customer_external_id", "product_code", "kind", "amount", "occurred_at",
                     "channel"),
    "events": ("external_id", "customer_external_id", "type", "occurred_at", "properties"),
}
REQUIRED = {
    "products": ("code", "name", "type"),
    "holdings": ("customer_external_id", "product_code", "amount", "as_of"),
    "transactions": ("external_id", "customer_external_id", "kind", "amount", "occurred_at"),
    "events": ("external_id", "customer_external_id", "type", "occurred_at"),
}
# The batch API's item names (DESIGN.md: `customer` = external id, `id` = external id).
ALIASES = {"id": "external_id", "customer": "customer_external_id", "product": "product_code"}
MAX_AMOUNT = 1e14  # the amount columns hold 16 digits, 2 of them decimals
CLOCK_SKEW = timedelta(minutes=10)  # a source's clock may run a little ahead; beyond that a time is wrong
EVENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
MAX_PROPERTIES_CHARS = 4096
DAY = pd.ArrowDtype(pa.date32())
SCORES_AFTER_ACTIVITY = "scores-after-activity"  # the coalescing key scores.jobs.compute_scores clears


@dataclass
class IngestReport:
    kind: str
    total: int = 0
    accepted: int = 0  # new rows (products and holdings: new or changed)
    duplicates: int = 0  # already stored (or repeated in this batch): nothing written
    rejected: int = 0
    created: int = 0
    updated: int = 0
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    def as_result(self) -> dict:
        result = asdict(self)
        result.pop("errors")
        return result


# --- mapping -------------------------------------------------------------------------------------

def mapped_frame(frame: pd.DataFrame, kind: str, mapping=None) -> tuple[pd.DataFrame, list[str]]:
    """The file's columns renamed to the kind's columns; returns the frame and the ignored headers.

    A mapping is `{"columns": {header: column}}` (or flat `{header: column}`); a header that names a
    column (or its API alias) maps to it without one. For events, other columns become properties
    (target `property`); for the other kinds they are ignored and reported as such."""
    if kind not in KINDS:
        raise ImportFileError(_("Unknown kind %(kind)s; kinds are: %(kinds)s.") % {"kind": kind, "kinds": ", ".join(KINDS)})
    known = COLUMNS[kind]
    if mapping in (None, "", {}):
        columns = {}
    elif isinstance(mapping, dict):
        columns = mapping.get("columns", mapping)
        if not isinstance(columns, dict) or not all(isinstance(value, str) for value in columns.values()):
            raise ImportFileError(_("A mapping must be a JSON object of column → target."))
    else:
        raise ImportFileError(_("A mapping must be a JSON object of column → target."))
    targets = set(known) | {"ignore"} | ({"property"} if kind == "events" else set())
    problems = [_("The mapping names column “%(column)s”, which the file does not have.") % {"column": column}
                for column in columns if column not in frame.columns]
    problems += [_("Column “%(column)s” maps to unknown target “%(target)s”; targets are: %(targets)s.")
                 % {"column": column, "target": target, "targets": ", ".join(sorted(targets))}
                 for column, target in columns.items() if target not in targets]
    plan = {header: columns.get(header) or default_target(kind, header) for header in frame.columns}
    for target in known:
        sources = [header for header, mapped in plan.items() if mapped == target]
        if len(sources) > 1:
            problems.append(_("Only one column may map to %(target)s (found %(columns)s).")
                            % {"target": target, "columns": ", ".join(sources)})
    missing = [column for column in REQUIRED[kind] if column not in plan.values()]
    if missing:
        problems.append(_("The file has no %(columns)s column (needed for %(kind)s).")
                        % {"columns": ", ".join(missing), "kind": kind})
    if problems:
        raise ImportFileError(" ".join(problems))
    out = pd.DataFrame({target: frame[header].astype(str) for header, target in plan.items() if target in known},
                       index=frame.index)
    if kind == "events":
        extra = [header for header, target in plan.items() if target == "property"]
        if extra:
            out["_extra"] = frame[extra].astype(str).to_dict("records")
    for column in known:
        if column not in out:
            out[column] = ""
    ignored = [header for header, target in plan.items() if target == "ignore"]
    return out.reset_index(drop=True), ignored


def default_target(kind: str, header: str) -> str:
    """What a header maps to without a mapping: the column it names (or its API alias), else a
    property (events) or nothing."""
    key = header.strip().lower()
    target = ALIASES.get(key, key)
    if target in COLUMNS[kind]:
        return target
    return "property" if kind == "events" else "ignore"


# --- checking ------------------------------------------------------------------------------------

def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    return frame[column].fillna("").astype(str).str.strip()


def _check_text(errors: RowErrors, values: pd.Series, column: str, limit: int, *, required: bool) -> None:
    if required:
        errors.add(values.eq(""), column, values, _("This value is required."))
    errors.add(values.str.len() > limit, column, values, _("Longer than %(n)d characters.") % {"n": limit})
    errors.add(values.str.contains(CONTROL_CHARACTERS), column, values,
               _("Contains an invisible control character; remove it."))


def _amounts(errors: RowErrors, values: pd.Series, column: str, *, required: bool = True) -> pd.Series:
    cleaned = values.str.replace(",", "", regex=False)
    numbers = pd.to_numeric(cleaned.where(cleaned.ne(""), None), errors="coerce")
    blank = values.eq("")
    errors.add(blank & required, column, values, _("This value is required."))
    errors.add(~blank & (numbers.isna() | ~np.isfinite(numbers.fillna(0))), column, values,
               _("Must be a number like 1200.50."))
    errors.add(numbers.abs() >= MAX_AMOUNT, column, values, _("Out of range."))
    errors.add(numbers < 0, column, values, _("Must not be negative (the kind says which way the money went)."))
    return numbers.round(2)


def parse_times(values: pd.Series) -> pd.Series:
    """ISO 8601 times as UTC; a time without an offset is read in TIME_ZONE; bad or missing → NaT."""
    zone = ZoneInfo(settings.TIME_ZONE)
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    aware = values.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True) & values.str.contains(r"\d[T ]\d", regex=True)
    if aware.any():
        result[aware] = pd.to_datetime(values[aware], utc=True, errors="coerce", format="ISO8601")
    naive = ~aware & values.ne("")
    if naive.any():
        parsed = pd.to_datetime(values[naive], errors="coerce", format="ISO8601")
        if getattr(parsed.dt, "tz", None) is None:
            result[naive] = parsed.dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    return result


def _times(errors: RowErrors, values: pd.Series, column: str, now: datetime) -> tuple[pd.Series, pd.Series]:
    """(UTC times, local calendar days) of a column of ISO times; bad ones are row errors."""
    times = parse_times(values)
    errors.add(values.eq(""), column, values, _("This value is required."))
    errors.add(values.ne("") & times.isna(), column, values,
               _("Not a valid time; use ISO 8601 such as 2026-11-30 09:30 or 2026-11-30T09:30:00+08:00."))
    errors.add(times > pd.Timestamp(now + CLOCK_SKEW), column, values, _("This time is in the future."))
    errors.add(times < pd.Timestamp("1900-01-01", tz="UTC"), column, values, _("This time is before 1900."))
    # Calendar days as Arrow dates, not 10M datetime.date objects.
    local_days = times.dt.tz_convert(settings.TIME_ZONE).dt.tz_localize(None).dt.floor("D").astype(DAY)
    return times, local_days


def _days(errors: RowErrors, values: pd.Series, column: str, *, required: bool, not_after=None) -> pd.Series:
    days = pd.to_datetime(values.where(values.ne(""), None), errors="coerce", format="ISO8601")
    if required:
        errors.add(values.eq(""), column, values, _("This value is required."))
    errors.add(values.ne("") & days.isna(), column, values, _("Not a valid date; use YYYY-MM-DD."))
    errors.add(days.dt.year < 1900, column, values, _("This date is before 1900."))
    if not_after is not None:
        errors.add(days.dt.date > not_after, column, values, _("This date is in the future."))
    return pd.Series([None if pd.isna(day) else day.date() for day in days], index=values.index, dtype=object)


def _customer_ids(errors: RowErrors, values: pd.Series, column: str) -> pd.Series:
    wanted = values[values.ne("")].unique()
    if len(wanted) > 20_000:  # a big file names most customers: one read of the whole map is faster
        pairs = list(Customer.objects.values_list("external_id", "id").iterator(chunk_size=50_000))
    else:
        pairs, wanted = [], list(wanted)
        for start in range(0, len(wanted), 5000):
            pairs += Customer.objects.filter(external_id__in=wanted[start:start + 5000]).values_list("external_id", "id")
    ids = _looked_up(values, pairs)
    errors.add(values.ne("") & ids.isna(), column, values, _("No customer has this external id."))
    errors.add(values.eq(""), column, values, _("This value is required."))
    return ids


def _product_ids(errors: RowErrors, values: pd.Series, column: str, *, required) -> pd.Series:
    ids = _looked_up(values, Product.objects.filter(code__in=list(values[values.ne("")].unique())).values_list("code", "id"))
    errors.add(values.ne("") & ids.isna(), column, values, _("No product has this code."))
    errors.add(values.eq("") & required, column, values, _("This kind of transaction needs a product."))
    return ids


def _looked_up(values: pd.Series, pairs) -> pd.Series:
    """The id paired with each value (NA for none), hashed in Arrow: Series.map with a dict of 1M
    external ids took 6.5 s per 1M rows, Arrow's index_in 0.6 s."""
    keys = pa.array([key for key, _id in pairs], type=pa.large_string())
    ids = np.fromiter((pk for _key, pk in pairs), dtype=np.int64, count=len(pairs))
    positions = pc.index_in(pa.array(values, type=pa.large_string()), value_set=keys).fill_null(-1).to_numpy()
    found = ids[np.maximum(positions, 0)] if len(ids) else np.zeros(len(values), np.int64)
    return pd.Series(pd.array(found, dtype="Int64"), index=values.index).mask(positions < 0)


def _first_of_each_id(errors: RowErrors, ids: pd.Series) -> np.ndarray:
    """Valid rows repeating the external id of an earlier valid row of the batch: duplicates, not rejected."""
    repeated = np.zeros(len(ids), dtype=bool)
    good = ~errors.bad
    repeated[good] = ids[good].duplicated(keep="first").to_numpy()
    return repeated


# --- the kinds -----------------------------------------------------------------------------------

def ingest(kind: str, frame: pd.DataFrame, *, now: datetime | None = None, every_error: bool = False) -> IngestReport:
    """Check and write a frame whose columns are the kind's (see mapped_frame). `every_error` keeps every
    row error (an API batch answers each rejected item); a file's report keeps the first 5,000."""
    now = now or timezone.now()
    report = IngestReport(kind=kind, total=len(frame))
    errors = RowErrors(len(frame), limit=len(frame) * len(frame.columns) * 4) if every_error else RowErrors(len(frame))
    writer = {"products": _products, "holdings": _holdings, "transactions": _transactions, "events": _events}[kind]
    writer(frame, errors, report, now)
    if report.accepted and kind != "products":
        # Scores (and after them the auto-tag rules) follow the new activity; a burst of batches is one
        # run (by name: the scores app sits above this one).
        transaction.on_commit(lambda: enqueue_coalesced(
            "scores.jobs.compute_scores", key=SCORES_AFTER_ACTIVITY, countdown=settings.SCORES_AFTER_ACTIVITY_DELAY_S))
    report.rejected = int(errors.bad.sum())
    report.errors = sorted(errors.items, key=lambda item: (item["row"], item["column"]))
    report.error_count = errors.count
    return report


def _transactions(frame, errors, report, now):
    ids = _text(frame, "external_id")
    _check_text(errors, ids, "external_id", 64, required=True)
    customers = _customer_ids(errors, _text(frame, "customer_external_id"), "customer_external_id")
    kinds = _text(frame, "kind").str.lower()
    errors.add(~kinds.isin(TransactionKind.values), "kind", _text(frame, "kind"),
               _("Kind must be one of: %(kinds)s.") % {"kinds": ", ".join(TransactionKind.values)})
    needs_product = kinds.isin([str(kind) for kind in KINDS_NEEDING_PRODUCT]).to_numpy()
    products = _product_ids(errors, _text(frame, "product_code"), "product_code", required=needs_product)
    amounts = _amounts(errors, _text(frame, "amount"), "amount")
    times, days = _times(errors, _text(frame, "occurred_at"), "occurred_at", now)
    channels = _text(frame, "channel")
    _check_text(errors, channels, "channel", 32, required=False)
    repeated = _first_of_each_id(errors, ids)
    valid = ~errors.bad & ~repeated
    rows = pd.DataFrame({
        "external_id": ids, "customer_id": customers, "product_id": products, "kind": kinds, "amount": amounts,
        "occurred_at": times, "occurred_on": days, "channel": channels, "created_at": now,
    })[valid]
    with transaction.atomic():
        report.accepted = ingest_write.insert_new(rows, "activity_transaction")
        buys = rows[(rows["kind"] == TransactionKind.BUY) & rows["product_id"].notna()]
        if report.accepted and not buys.empty:
            # Campaigns promoting these products recompute their attributed conversions (by name:
            # the campaigns app sits above this one).
            args = (sorted(int(pk) for pk in buys["product_id"].unique()), buys["occurred_at"].min().isoformat(),
                    buys["occurred_at"].max().isoformat())
            transaction.on_commit(lambda: enqueue("campaigns.jobs.refresh_attribution", *args))
        pause_for_failure_tests()
    report.created = report.accepted
    report.duplicates = int(valid.sum()) - report.accepted + int(repeated.sum())


def _events(frame, errors, report, now):
    ids = _text(frame, "external_id")
    _check_text(errors, ids, "external_id", 64, required=True)
    customers = _customer_ids(errors, _text(frame, "customer_external_id"), "customer_external_id")
    types = _text(frame, "type")
    errors.add(~types.str.fullmatch(EVENT_TYPE), "type", types,
               _("An event type is lower-case letters, digits, _ . and - (at most 64), e.g. login_failed."))
    times, days = _times(errors, _text(frame, "occurred_at"), "occurred_at", now)
    properties = [_properties(text, extra) for text, extra in zip(
        frame["properties"].fillna(""), frame["_extra"] if "_extra" in frame else [None] * len(frame), strict=True)]
    bad = np.array([value is None for value in properties], dtype=bool)
    errors.add(bad, "properties", frame["properties"].astype(str),
               _("Properties must be a JSON object of at most %(n)d characters, without control characters, "
                 "e.g. {\"page\": \"fund-x\"}.")
               % {"n": MAX_PROPERTIES_CHARS})
    repeated = _first_of_each_id(errors, ids)
    valid = ~errors.bad & ~repeated
    rows = pd.DataFrame({
        "external_id": ids, "customer_id": customers, "type": types, "occurred_at": times, "occurred_on": days,
        "properties": [json.dumps(value, ensure_ascii=False) if value is not None else None for value in properties],
        "created_at": now,
    })[valid]
    with transaction.atomic():
        report.accepted = ingest_write.insert_new(rows, "activity_event")
        if report.accepted:
            signals.events_stored.send(sender=Event, rows=rows, created_at=now)
        pause_for_failure_tests()
    report.created = report.accepted
    report.duplicates = int(valid.sum()) - report.accepted + int(repeated.sum())


def _properties(text, extra) -> dict | None:
    """A JSON object (the properties column, plus any unmapped columns of a file); None if invalid."""
    if isinstance(text, dict):
        value = text
    elif not isinstance(text, str):
        return None
    elif text.strip() == "":
        value = {}
    else:
        try:
            value = json.loads(text)
        except ValueError:
            return None
    if not isinstance(value, dict):
        return None
    if extra:
        value = {**{key: cell for key, cell in extra.items() if cell != ""}, **value}
    if len(json.dumps(value, ensure_ascii=False)) > MAX_PROPERTIES_CHARS:
        return None
    try:
        refuse_unstorable_json(value)  # json.dumps escapes control characters, so the text cannot be searched
    except ValidationError:
        return None
    return value


def _holdings(frame, errors, report, now):
    customers = _customer_ids(errors, _text(frame, "customer_external_id"), "customer_external_id")
    products = _product_ids(errors, _text(frame, "product_code"), "product_code", required=True)
    amounts = _amounts(errors, _text(frame, "amount"), "amount")
    days = _days(errors, _text(frame, "as_of"), "as_of", required=True, not_after=timezone.localdate(now))
    rows = pd.DataFrame({"customer_id": customers, "product_id": products, "as_of": days, "amount": amounts})
    repeated = (rows.duplicated(["customer_id", "product_id", "as_of"], keep=False) & ~errors.bad).to_numpy()
    errors.add(repeated, "product_code", _text(frame, "product_code"),
               _("This customer, product and day appear more than once in the file."))
    valid = ~errors.bad
    with transaction.atomic():
        report.created, report.updated = ingest_write.upsert_holdings(rows[valid])
    report.accepted = report.created + report.updated
    report.duplicates = int(valid.sum()) - report.accepted


def _products(frame, errors, report, now):
    codes = _text(frame, "code")
    errors.add(~codes.str.fullmatch(CODE), "code", codes,
               _("A product code is letters, digits, _ . and - (at most 32), e.g. FUND-A01."))
    errors.add(codes.ne("") & codes.duplicated(keep=False), "code", codes,
               _("This product code appears more than once in the file."))
    names = _text(frame, "name")
    _check_text(errors, names, "name", 120, required=True)
    types = _text(frame, "type").str.lower()
    errors.add(~types.isin(ProductType.values), "type", _text(frame, "type"),
               _("Type must be one of: %(types)s.") % {"types": ", ".join(ProductType.values)})
    risk_text = _text(frame, "risk_level").str.upper().str.removeprefix("R")
    risks = pd.to_numeric(risk_text.where(risk_text.ne(""), "1"), errors="coerce")
    errors.add(risks.isna() | ~risks.isin([1, 2, 3, 4, 5]), "risk_level", _text(frame, "risk_level"),
               _("Risk level must be 1–5 or R1–R5."))
    term_text = _text(frame, "term_days")
    terms = pd.to_numeric(term_text.where(term_text.ne(""), None), errors="coerce")
    errors.add(term_text.ne("") & (terms.isna() | (terms < 0) | (terms % 1 != 0) | (terms > 36_500)), "term_days",
               term_text, _("The term is a whole number of days from 0 to 36,500."))
    minimums = _amounts(errors, _text(frame, "min_amount"), "min_amount", required=False)
    launches = _days(errors, _text(frame, "launch_date"), "launch_date", required=False)
    maturities = _days(errors, _text(frame, "maturity_date"), "maturity_date", required=False)
    statuses = _text(frame, "status").str.lower().replace("", ProductStatus.ON_SALE)
    errors.add(~statuses.isin(ProductStatus.values), "status", _text(frame, "status"),
               _("Status must be one of: %(statuses)s.") % {"statuses": ", ".join(ProductStatus.values)})
    ends_early = pd.Series([bool(start and end and end < start) for start, end in zip(launches, maturities, strict=True)])
    errors.add(ends_early, "maturity_date", _text(frame, "maturity_date"), _("The maturity date is before the launch."))
    valid = np.flatnonzero(~errors.bad)
    with transaction.atomic():
        existing = {product.code: product for product in Product.objects.select_for_update()
                    .filter(code__in=list(codes.iloc[valid]))}
        for position in valid:
            values = {
                "name": names.iloc[position], "type": types.iloc[position], "risk_level": int(risks.iloc[position]),
                "term_days": None if pd.isna(terms.iloc[position]) else int(terms.iloc[position]),
                "min_amount": None if pd.isna(minimums.iloc[position]) else f"{minimums.iloc[position]:.2f}",
                "launch_date": launches.iloc[position], "maturity_date": maturities.iloc[position],
                "status": statuses.iloc[position],
            }
            product = existing.get(codes.iloc[position])
            if product is None:
                Product.objects.create(code=codes.iloc[position], **values)
                report.created += 1
            elif any(_differs(getattr(product, name), value) for name, value in values.items()):
                Product.objects.filter(pk=product.pk).update(**values, updated_at=now)
                report.updated += 1
    report.accepted = report.created + report.updated
    report.duplicates = len(valid) - report.accepted


def _differs(current, new) -> bool:
    if current is None or new is None:
        return current is not new
    return str(current) != str(new) if not hasattr(current, "quantize") else current != type(current)(str(new))


def items_frame(items: list[dict], kind: str) -> pd.DataFrame:
    """A batch API's items as the engine's frame (every value as text; properties kept as given)."""
    columns = COLUMNS[kind]
    rows = []
    for item in items:
        row = {}
        for key, value in item.items():
            column = ALIASES.get(key, key)
            if column not in columns:
                continue
            if column == "properties":
                row[column] = value if isinstance(value, dict) else ("" if value is None else str(value))
                if isinstance(value, (list, str, int, float)) and not isinstance(value, bool) and value != "":
                    row[column] = json.dumps(value)  # not an object: the engine refuses it with the rule
            else:
                row[column] = "" if value is None else str(value)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=list(columns), dtype=object).fillna("")
    return frame.reset_index(drop=True)

