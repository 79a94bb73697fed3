"""The customer import engine behind the UI, the API and `manage.py import_customers`.

Reads CSV (any delimiter, UTF-8 or GBK) or XLSX with pandas, validates whole columns at
once, and writes set-based: a row with any error is rejected whole and reported, the valid
rows are upserted by external id in one transaction, and an unchanged row is not touched,
so importing the same file twice changes nothing the second time.
"""

import csv
import io
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pa_compute
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Branch, User
from accounts.selectors import account_managers
from core.bulk import insert_new_returning
from core.faults import pause_for_failure_tests
from core.validators import CONTROL_CHARACTERS

from .importing_write import write_customers
from .mapping import Mapping, build_mapping
from .models import Gender, LifecycleStage, Tag
from .services import tag_slug

MAX_REPORTED_ERRORS = 5_000
TRUE_WORDS = {"1", "y", "yes", "true", "t", "是", "有", "x"}
FALSE_WORDS = {"", "0", "n", "no", "false", "f", "否", "无"}
GENDER_WORDS = {
    "f": Gender.FEMALE, "female": Gender.FEMALE, "女": Gender.FEMALE, "w": Gender.FEMALE,
    "m": Gender.MALE, "male": Gender.MALE, "男": Gender.MALE,
    "": Gender.UNKNOWN, "u": Gender.UNKNOWN, "unknown": Gender.UNKNOWN, "未知": Gender.UNKNOWN,
}
TEXT_LIMITS = {"external_id": 64, "name": 120, "phone": 32, "email": 254}


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (encoding, layout, mapping)."""


@dataclass
class ImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    tags_created: int = 0
    tag_links_added: int = 0
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0

    def as_result(self) -> dict:
        result = asdict(self)
        result.pop("errors")
        return result


# --- Reading ---------------------------------------------------------------------------------

ENCODINGS = {"utf-8": gettext_lazy("UTF-8"), "gb18030": gettext_lazy("GBK / GB18030 (Chinese Excel)"),
             "big5": gettext_lazy("Big5"), "latin-1": gettext_lazy("Latin-1")}
MAX_COLUMNS = 500  # a wide file of 100,000 columns took a worker down while being parsed
DELIMITERS = ",;\t|"


def read_table(path: str | Path, *, delimiter: str | None = None, encoding: str | None = None,
               preview_rows: int | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX file into a frame of strings, headers stripped.

    `encoding` None detects UTF-8 or GB18030; `preview_rows` reads only that many rows (and only the
    start of a CSV), for the mapping step of the wizard, which must not parse a whole file in a web
    request. ImportFileError says what is wrong with the file as a whole."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl", nrows=preview_rows)
            # The header as written: pandas renames a repeated name to name.1.
            headers = [str(cell).strip() for cell in pd.read_excel(path, header=None, nrows=1, dtype=str,
                                                                    keep_default_na=False, engine="openpyxl").iloc[0]]
        except Exception as error:  # openpyxl raises many types for a broken workbook
            raise ImportFileError(_("This is not a readable XLSX workbook (%(error)s).") % {"error": error}) from error
        _check_columns(headers)
    else:
        raw = path.read_bytes() if preview_rows is None else _read_start(path)
        nul = raw.find(b"\x00")
        if nul >= 0:
            raise ImportFileError(_("The file contains a NUL byte on line %(line)d (byte %(byte)d): it looks binary, "
                                    "not CSV text. Upload a CSV or XLSX file.") % {
                "line": raw.count(b"\n", 0, nul) + 1, "byte": nul + 1})
        text = decode(raw, encoding, partial=preview_rows is not None)
        if not text.strip():
            raise ImportFileError(_("The file is empty."))
        delimiter = _checked_delimiter(delimiter) or _sniff_delimiter(text[:65536])
        headers = _csv_header(text, delimiter)
        _check_columns(headers)
        frame = _parse_csv(text, delimiter, headers, preview_rows)
    frame.columns = [str(column).strip() for column in frame.columns]
    if frame.empty:
        raise ImportFileError(_("The file has a header but no rows."))
    return frame


def _parse_csv(text: str, delimiter: str, headers: list[str], preview_rows: int | None) -> pd.DataFrame:
    """Every cell as text. A whole file goes through Arrow's multi-threaded reader (1M activity rows:
    0.9 s, pandas' C reader 7 s); a file Arrow will not read the same way (a short row, which pandas
    pads with blanks) and a preview go through pandas."""
    if preview_rows is None:
        import pyarrow as pa  # lazy: heavy, and only whole-file reads need it
        import pyarrow.csv as pa_csv

        names = [f"column_{number}" for number in range(len(headers))]
        try:
            table = pa_csv.read_csv(
                io.BytesIO(text.encode("utf-8")),
                read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1),
                parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
                convert_options=pa_csv.ConvertOptions(column_types={name: pa.string() for name in names},
                                                      strings_can_be_null=False, quoted_strings_can_be_null=False))
        except pa.ArrowInvalid:
            pass
        else:
            frame = table.to_pandas(types_mapper=lambda _type: pd.StringDtype("pyarrow", na_value=np.nan))
            frame.columns = headers
            return frame
    try:
        # index_col=False and warnings as errors: a row with more cells than the header
        # must be refused, not silently shifted into an index or truncated.
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                               engine="c", index_col=False, nrows=preview_rows)
    except (pd.errors.ParserError, pd.errors.ParserWarning) as error:
        raise ImportFileError(_("The file's rows do not line up with its header: %(error)s") % {"error": error}) from error


def _read_start(path: Path, size: int = 1 << 20) -> bytes:
    """The first MB of a file, cut at its last complete line."""
    with open(path, "rb") as handle:
        raw = handle.read(size)
        if handle.read(1):
            raw = raw[: raw.rfind(b"\n") + 1] or raw
    return raw


def decode(raw: bytes, encoding: str | None = None, *, partial: bool = False) -> str:
    """The file's text. Without a chosen encoding: UTF-8, or GB18030 for a file with no UTF-8 in it.

    A UTF-8 file with a stray byte is refused with the byte's position rather than decoded whole
    as GB18030, which turned every Chinese name into mojibake ("张三" → "寮犱笁") that a re-import
    then wrote over good names."""
    if encoding:
        if encoding not in ENCODINGS:
            raise ImportFileError(_("Unknown encoding %(encoding)s; choose one of: %(choices)s.")
                                  % {"encoding": encoding, "choices": ", ".join(ENCODINGS)})
        try:
            return raw.decode("utf-8-sig" if encoding == "utf-8" else encoding)
        except UnicodeDecodeError as error:
            if partial and error.start >= len(raw) - 4:
                return raw[:error.start].decode(encoding)  # a character cut at the end of a preview
            raise ImportFileError(_("The file is not %(encoding)s text: byte %(byte)d (line %(line)d) cannot be read.")
                                  % {"encoding": ENCODINGS[encoding], "byte": error.start + 1,
                                     "line": raw.count(b"\n", 0, error.start) + 1}) from error
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if partial and error.start >= len(raw) - 4:
            return raw[:error.start].decode("utf-8-sig")
        first_bad = error
    lenient = raw.decode("utf-8", errors="replace")
    unreadable = lenient.count("\ufffd")
    readable = sum(1 for character in lenient if ord(character) > 127) - unreadable
    if readable >= 20 * unreadable:  # mostly good UTF-8: a damaged UTF-8 file, not a GBK one
        raise ImportFileError(_(
            "The file is UTF-8 text with %(count)d unreadable byte(s), the first at byte %(byte)d (line %(line)d). "
            "Fix or re-export the file, or choose its encoding explicitly.") % {
            "count": unreadable, "byte": first_bad.start + 1, "line": raw.count(b"\n", 0, first_bad.start) + 1})
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError as error:
        raise ImportFileError(_("The file is neither UTF-8 nor GBK text. Save it as UTF-8 CSV and try again.")) from error


def _checked_delimiter(delimiter: str | None) -> str | None:
    if not delimiter:
        return None
    if delimiter == "\\t":
        return "\t"
    if len(delimiter) != 1 or delimiter in "\"'\r\n" or delimiter.isalnum():
        raise ImportFileError(_("The delimiter must be one character such as , ; | or a tab (got %(value)r).")
                              % {"value": delimiter})
    return delimiter


def _csv_header(text: str, delimiter: str) -> list[str]:
    """The header row as written (pandas renames a repeated name to name.1, which hid duplicates)."""
    first_line = text[: text.find("\n")] if "\n" in text else text
    if len(first_line) > 1_000_000:
        raise ImportFileError(_("The header line is longer than 1,000,000 characters."))
    try:
        return [cell.strip() for cell in next(csv.reader(io.StringIO(text), delimiter=delimiter))]
    except (csv.Error, StopIteration) as error:
        raise ImportFileError(_("The header cannot be read: %(error)s") % {"error": error}) from error


def _check_columns(headers: list[str]) -> None:
    if len(headers) > MAX_COLUMNS:
        raise ImportFileError(_("The file has %(count)d columns; at most %(limit)d are accepted.")
                              % {"count": len(headers), "limit": MAX_COLUMNS})
    seen, repeated = set(), []
    for header in headers:
        if header in seen and header not in repeated:
            repeated.append(header)
        seen.add(header)
    if repeated:
        raise ImportFileError(_("The header names these columns more than once: %(columns)s.")
                              % {"columns": ", ".join(f"“{name}”" for name in repeated[:10])})


def _sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


# --- Validation ------------------------------------------------------------------------------

class RowErrors:
    """Row-level errors collected column by column. Like the history import's: `row` is the 1-based
    data row, `line` the file's line (the header is line 1)."""

    def __init__(self, size: int, *, limit: int = MAX_REPORTED_ERRORS):
        self.bad = np.zeros(size, dtype=bool)
        self.items: list[dict] = []
        self.count = 0
        self.limit = limit  # errors kept for the report (a file's report is capped; an API batch's is not)

    def add(self, mask, column: str, values: pd.Series, message: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        self.bad |= mask
        positions = np.flatnonzero(mask)
        self.count += len(positions)
        room = self.limit - len(self.items)
        for position in positions[: max(room, 0)]:
            self.items.append({"row": int(position) + 1, "line": int(position) + 2, "column": column,
                               "value": str(values.iloc[position])[:200], "message": message})


def _looks_like_formula(values: pd.Series, allow_signed_numbers: bool = True) -> np.ndarray:
    """Text a spreadsheet would run as a formula: = @ tab CR, or + - not starting a number."""
    first = values.str[:1]
    risky = first.isin(["=", "@", "\t", "\r"])
    signed = first.isin(["+", "-"])
    if allow_signed_numbers:
        signed &= ~values.str.fullmatch(r"[+-][\d\s().]+")
    return (risky | signed).to_numpy()


def _clean(frame: pd.DataFrame, mapping: Mapping, errors: RowErrors, today: date) -> pd.DataFrame:
    """Turn mapped columns into typed field columns; bad cells become row errors."""
    out = pd.DataFrame(index=frame.index)
    strip = {column: frame[column].str.strip() for column in frame.columns}

    id_column = mapping.column_for("external_id")
    if id_column:
        ids = strip[id_column]
        errors.add(ids.eq(""), id_column, ids, _("The external id is empty."))
    else:
        ids = pd.Series([f"{mapping.row_id_prefix}{n}" for n in range(1, len(frame) + 1)], index=frame.index)
    out["external_id"] = ids
    duplicated = ids.ne("") & ids.duplicated(keep=False)
    errors.add(duplicated, id_column or "external_id", ids,
               _("This external id appears more than once in the file; fix the duplicates."))

    for target, limit in TEXT_LIMITS.items():
        column = mapping.column_for(target)
        if target == "external_id" or not column:
            continue
        values = strip[column]
        errors.add(values.str.len() > limit, column, values, _("Longer than %(n)d characters.") % {"n": limit})
        errors.add(values.str.contains(CONTROL_CHARACTERS), column, values,
                   _("Contains an invisible control character; remove it."))
        errors.add(_looks_like_formula(values, allow_signed_numbers=target == "phone"), column, values,
                   _("Looks like a spreadsheet formula; remove the leading = + - @ character."))
        if target == "email":
            errors.add(values.ne("") & ~values.str.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+"), column, values,
                       _("Not a valid e-mail address."))
        out[target] = values
    errors.add(ids.str.len() > 64, id_column or "external_id", ids, _("Longer than %(n)d characters.") % {"n": 64})
    errors.add(ids.str.contains(CONTROL_CHARACTERS), id_column or "external_id", ids,
               _("Contains an invisible control character; remove it."))
    errors.add(_looks_like_formula(ids), id_column or "external_id", ids,
               _("Looks like a spreadsheet formula; remove the leading = + - @ character."))

    if column := mapping.column_for("gender"):
        values = strip[column]
        genders = values.str.lower().map(GENDER_WORDS)
        errors.add(genders.isna(), column, values, _("Gender must be F, M or empty (女/男 accepted)."))
        out["gender"] = genders.fillna(Gender.UNKNOWN)

    if column := mapping.column_for("assets"):
        values = strip[column].str.replace(",", "", regex=False)
        numbers = pd.to_numeric(values.replace("", "0"), errors="coerce")
        errors.add(numbers.isna(), column, strip[column], _("Assets must be a number."))
        errors.add(numbers.abs() >= 1e14, column, strip[column], _("Assets are out of range."))
        out["assets"] = numbers.fillna(0).round(2)

    if column := mapping.column_for("risk_level"):
        values = strip[column]
        numbers = pd.to_numeric(values, errors="coerce")
        bad = values.ne("") & (numbers.isna() | ~numbers.isin([1, 2, 3, 4, 5]))
        errors.add(bad, column, values, _("Risk level must be a whole number from 1 to 5."))
        out["risk_level"] = numbers.where(~bad & values.ne("")).astype("Int64")

    if column := mapping.column_for("lifecycle_stage"):
        values = strip[column].str.lower()
        allowed = set(LifecycleStage.values) | {""}
        errors.add(~values.isin(allowed), column, strip[column],
                   _("Lifecycle stage must be one of: %(stages)s.") % {"stages": ", ".join(LifecycleStage.values)})
        out["lifecycle_stage"] = values.replace("", LifecycleStage.POTENTIAL)

    if column := mapping.column_for("birth_date"):
        values = strip[column]
        dates = pd.to_datetime(values, errors="coerce", format="mixed")
        bad = values.ne("") & (dates.isna() | (dates.dt.date > today) | (dates.dt.year < 1900))
        errors.add(bad, column, values, _("Not a valid birth date (use YYYY-MM-DD)."))
        out["birth_date"] = dates.dt.date.where(~bad & values.ne(""), None)
    elif column := mapping.column_for("age"):
        values = strip[column]
        ages = pd.to_numeric(values, errors="coerce")
        bad = values.ne("") & (ages.isna() | (ages < 0) | (ages > 130) | (ages % 1 != 0))
        errors.add(bad, column, values, _("Age must be a whole number from 0 to 130."))
        # An age allows a year of birth dates; the middle one (half a year before the latest)
        # gives the stated age on the day of the import.
        out["birth_date"] = [
            date(today.year - int(age), today.month, min(today.day, 28)) - timedelta(days=182)
            if ok and not pd.isna(age) else None
            for age, ok in zip(ages, (~bad & values.ne("")), strict=True)
        ]
    return out


def _resolve_people(out: pd.DataFrame, frame: pd.DataFrame, mapping: Mapping, errors: RowErrors) -> None:
    """Branch codes and account-manager usernames become ids; unknown ones are row errors."""
    if column := mapping.column_for("branch"):
        codes = frame[column].str.strip()
        known = dict(Branch.objects.values_list("code", "id"))
        ids = codes.map(known)
        errors.add(codes.ne("") & ids.isna(), column, codes, _("Unknown branch code."))
        out["branch_id"] = ids.astype("Int64")
    if column := mapping.column_for("owner"):
        names = frame[column].str.strip()
        wanted = set(names) - {""}
        # Only active account managers own customers (the same rule as the owner picker and the API).
        known = dict(account_managers().filter(username__in=wanted).values_list("username", "id"))
        other = set(User.objects.filter(username__in=wanted - set(known)).values_list("username", flat=True))
        ids = names.map(known)
        errors.add(names.isin(other), column, names,
                   _("This user is not an active account manager; customers can only be given to one."))
        errors.add(names.ne("") & ids.isna() & ~names.isin(other), column, names,
                   _("Unknown account manager username."))
        out["owner_id"] = ids.astype("Int64")


def _tag_pairs(frame: pd.DataFrame, mapping: Mapping, errors: RowErrors) -> pd.DataFrame:
    """(row position, tag slug) for every tag the file gives a row."""
    pieces = []
    for column in mapping.targets("tag"):
        values = frame[column].str.strip()
        # Slugify each distinct value once: a column has a handful of values, not a million.
        slug_of = {value: tag_slug(f"{column}-{value}") if value else "" for value in values.unique()}
        slugs = values.map(slug_of)
        pieces.append(_without_rule_tags(pd.DataFrame({"row": np.arange(len(frame)), "slug": slugs.to_numpy()}),
                                         column, frame, errors))
    for column in mapping.targets("flag"):
        values = frame[column].str.strip().str.lower()
        errors.add(~values.isin(TRUE_WORDS | FALSE_WORDS), column, frame[column],
                   _("Expected yes or no."))
        slug = tag_slug(column)
        chosen = values.isin(TRUE_WORDS).to_numpy()
        pieces.append(_without_rule_tags(pd.DataFrame({"row": np.flatnonzero(chosen), "slug": slug}),
                                         column, frame, errors))
    for column in mapping.targets("tags"):
        # Split and flatten in Arrow (C++): a Python loop over a million cells took seconds.
        lists = pa_compute.split_pattern(pa.array(frame[column].fillna(""), type=pa.string()), "|")
        part = pd.DataFrame({
            "row": pa_compute.list_parent_indices(lists).to_numpy(),
            "slug": pa_compute.utf8_trim_whitespace(pa_compute.list_flatten(lists)).to_numpy(zero_copy_only=False),
        })
        part = part[part["slug"] != ""]
        distinct = part["slug"].unique()
        invalid = {slug for slug in distinct if tag_slug(slug) != slug}
        bad_slug = part["slug"].isin(invalid)
        if bad_slug.any():
            mask = np.zeros(len(frame), dtype=bool)
            mask[part.loc[bad_slug, "row"].to_numpy()] = True
            errors.add(mask, column, frame[column],
                       _("Tags must be slugs (lower-case letters, digits, hyphens, underscores) separated by |."))
        pieces.append(_without_rule_tags(part, column, frame, errors))
    if not pieces:
        return pd.DataFrame({"row": pd.Series(dtype=int), "slug": pd.Series(dtype=str)})
    pairs = pd.concat(pieces, ignore_index=True)
    return pairs[pairs["slug"].ne("")].drop_duplicates()


def _without_rule_tags(part: pd.DataFrame, column: str, frame: pd.DataFrame, errors: RowErrors) -> pd.DataFrame:
    """A tag an auto-tag rule maintains is not set by a file: those rows are row errors."""
    ruled = set(Tag.objects.filter(source=Tag.Source.RULE, slug__in=part["slug"].unique().tolist())
                .values_list("slug", flat=True)) if len(part) else set()
    if not ruled:
        return part
    hits = part["slug"].isin(ruled)
    mask = np.zeros(len(frame), dtype=bool)
    mask[part.loc[hits, "row"].to_numpy()] = True
    errors.add(mask, column, frame[column], _("A rule maintains the tag %(tags)s; it cannot be set by a file.")
               % {"tags": ", ".join(sorted(ruled))})
    return part[~hits]


def _extras(frame: pd.DataFrame, mapping: Mapping, errors: RowErrors) -> pd.Series | None:
    columns = mapping.targets("extra")
    if not columns:
        return None
    for column in columns:
        values = frame[column]
        errors.add(_looks_like_formula(values.str.strip()), column, values,
                   _("Looks like a spreadsheet formula; remove the leading = + - @ character."))
        errors.add(values.str.contains(CONTROL_CHARACTERS), column, values,
                   _("Contains an invisible control character; remove it."))
    records = frame[columns].to_dict("records")
    return pd.Series([{key: value for key, value in record.items() if value != ""} for record in records],
                     index=frame.index)


# --- The whole import ------------------------------------------------------------------------

def import_customers(
    path: str | Path, *, mapping=None, delimiter: str | None = None, encoding: str | None = None, by=None,
    progress: Callable[[int, int, str], None] | None = None, today: date | None = None,
) -> ImportReport:
    """Import a customer file: validate every row, then upsert the valid ones in one go."""
    progress = progress or (lambda done, total, stage: None)
    today = today or date.today()
    progress(0, 0, _("Reading the file"))
    frame = read_table(path, delimiter=delimiter, encoding=encoding)
    try:
        plan = build_mapping(mapping, list(frame.columns))
    except ValueError as error:
        raise ImportFileError(str(error)) from error
    report = ImportReport(total=len(frame))
    progress(0, len(frame), _("Checking rows"))

    errors = RowErrors(len(frame))
    out = _clean(frame, plan, errors, today)
    _resolve_people(out, frame, plan, errors)
    pairs = _tag_pairs(frame, plan, errors)
    extras = _extras(frame, plan, errors)
    if extras is not None:
        out["extra"] = extras

    valid = ~errors.bad
    report.rejected = int(errors.bad.sum())
    report.errors = sorted(errors.items, key=lambda item: item["row"])
    report.error_count = errors.count
    out = out[valid].reset_index(drop=True)
    old_positions = np.flatnonzero(valid)
    position_map = pd.Series(np.arange(len(old_positions)), index=old_positions)
    pairs = pairs[pairs["row"].isin(old_positions)].assign(row=lambda p: position_map[p["row"]].to_numpy())

    progress(0, len(out), _("Writing customers"))
    with transaction.atomic():
        tag_ids, report.tags_created = _ensure_tags(sorted(set(pairs["slug"])))
        pairs = pairs.assign(tag_id=pairs["slug"].map(tag_ids))
        counts = write_customers(out, pairs[["row", "tag_id"]], by=by,
                                 progress=lambda done: progress(done, len(out), _("Writing customers")))
        pause_for_failure_tests()
    report.created, report.updated, report.unchanged, report.tag_links_added = counts
    progress(len(out), len(out), _("Done"))
    return report


def _ensure_tags(slugs: list[str]) -> tuple[dict[str, int], int]:
    """Ids of the given tag slugs, creating the missing ones as import tags."""
    existing = dict(Tag.objects.filter(slug__in=slugs).values_list("slug", "id"))
    missing = [slug for slug in slugs if slug not in existing]
    # Another import may create the same tags at this moment: theirs are kept, ours skipped, and
    # only the tags this import inserted are counted as created (it was an IntegrityError).
    now = timezone.now()
    created = insert_new_returning(
        Tag, ["slug", "name", "category", "source", "description", "created_at"],
        [(slug, slug, Tag.Category.PROFILE, Tag.Source.IMPORT, "", now) for slug in missing], returning="id")
    if missing:
        existing.update(Tag.objects.filter(slug__in=missing).values_list("slug", "id"))
    return existing, len(created)
