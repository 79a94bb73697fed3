"""Spreadsheet-safe exports: CSV and XLSX writers that neutralise formulas.

A cell that starts with = + - @ tab or CR can run as a formula when a user opens the file
in Excel (OWASP ASVS 1.2.10); such a text cell is prefixed with a quote. Numbers are
written as numbers, so a negative balance stays a number.
"""

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

from core.validators import CONTROL_CHARACTERS

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


MONEY_FORMAT = "#,##0.00"
RATE_FORMAT = "0.00%"
ROI_FORMAT = "0%"  # as the pages show ROI


@dataclass(frozen=True)
class Number:
    """A number with its spreadsheet format: a workbook cell that sums and sorts as a number and
    reads as the page shows it (a CSV gets the bare number)."""

    value: Decimal | float | int | None
    number_format: str


def money(value) -> Number:
    """Money (a Decimal or its string, as reports carry it) as a number cell with two decimals."""
    if value in (None, ""):
        return Number(None, MONEY_FORMAT)
    try:
        return Number(Decimal(str(value)), MONEY_FORMAT)
    except InvalidOperation:
        return Number(None, MONEY_FORMAT)


def rate(value, number_format: str = RATE_FORMAT) -> Number:
    """A fraction (0.117) shown as a percentage (11.70 %)."""
    return Number(None if value is None else float(value), number_format)


def safe_cell(value):
    """Return the value as it may be written to a spreadsheet cell."""
    if isinstance(value, Number):
        return "" if value.value is None else value.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


class _Echo:
    def write(self, value):
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence]) -> Iterable[str]:
    """A CSV's lines: UTF-8 BOM first (so Excel shows Chinese correctly), every cell formula-safe."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> StreamingHttpResponse:
    """Stream a CSV without holding it."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


ROW_ERROR_FIELDS = ("row", "line", "column", "value", "message")


def _row_error_table(errors: Iterable[dict]) -> tuple[list[str], Iterable[list]]:
    header = [_("Row"), _("Line"), _("Column"), _("Value"), _("Message")]
    return header, ([item.get(name) for name in ROW_ERROR_FIELDS] for item in errors)


def row_errors_response(filename: str, errors: Iterable[dict]) -> StreamingHttpResponse:
    """An import's row-level error report as a CSV download (every import's, the same columns)."""
    return csv_response(filename, *_row_error_table(errors))


def write_row_errors(path, errors: Iterable[dict]) -> None:
    """The same report written to a file (the import commands' --errors), formula-safe like every export."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.writelines(csv_lines(*_row_error_table(errors)))


def xlsx_response(filename: str, sheets: dict[str, tuple[Sequence[str], Iterable[Sequence]]]) -> HttpResponse:
    """Write one or more sheets to an XLSX workbook in write-only (streaming) mode."""
    response = HttpResponse(xlsx_bytes(sheets), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cell(sheet, value):
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, Number) and value.value is not None:
        written = WriteOnlyCell(sheet, value=value.value)
        written.number_format = value.number_format
        return written
    return _xml_safe(safe_cell(value))


def _xml_safe(value):
    """Control characters are illegal in a workbook's XML: one in old data must not break every
    workbook that shows it (input refuses them now; rows stored before may still hold them)."""
    return CONTROL_CHARACTERS.sub("", value) if isinstance(value, str) else value


def xlsx_bytes(sheets: dict[str, tuple[Sequence[str], Iterable[Sequence]]]) -> bytes:
    """The workbook itself (for a download or an e-mail attachment), formulas neutralised."""
    buffer = io.BytesIO()
    xlsx_write(buffer, sheets)
    return buffer.getvalue()


def xlsx_write(target, sheets: dict[str, tuple[Sequence[str], Iterable[Sequence]]]) -> None:
    """Write the workbook to a path or a binary file (write-only mode: rows are not all held)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, (header, rows) in sheets.items():
        sheet = workbook.create_sheet(title=title[:31])
        sheet.append([_xml_safe(safe_cell(value)) for value in header])
        for row in rows:
            sheet.append([_cell(sheet, value) for value in row])
    workbook.save(target)
