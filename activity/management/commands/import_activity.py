"""manage.py import_activity PATH --kind products|holdings|transactions|events [--mapping F] [--delimiter ;]"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from activity.ingest import KINDS
from activity.services import import_file
from core.exports import write_row_errors
from customers.importing import ENCODINGS, ImportFileError


class Command(BaseCommand):
    help = "Import products, holdings, transactions or events from a CSV or XLSX file (same engine as the API)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--kind", required=True, choices=KINDS)
        parser.add_argument("--mapping", help="a JSON file of {\"columns\": {header: column}}")
        parser.add_argument("--delimiter", help="CSV delimiter; sniffed from the header if not given")
        parser.add_argument("--encoding", choices=list(ENCODINGS), help="detected (UTF-8, else GBK) if not given")
        parser.add_argument("--errors", help="write the row-level errors to this CSV file")

    def handle(self, *args, path, kind, mapping, delimiter, encoding, errors, **options):
        if not Path(path).exists():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        if mapping:
            try:
                mapping = json.loads(Path(mapping).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as error:
                raise CommandError(_("Cannot read the mapping: %(error)s") % {"error": error}) from error
        try:
            report = import_file(path, kind=kind, mapping=mapping, delimiter=delimiter, encoding=encoding)
        except ImportFileError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(_("accepted %(accepted)d, duplicates %(duplicates)d, rejected %(rejected)d "
                            "(%(created)d new, %(updated)d updated)") % asdict_counts(report))
        if report.ignored_columns:
            self.stdout.write(_("ignored columns: %(columns)s") % {"columns": ", ".join(report.ignored_columns)})
        for item in report.errors[:20]:
            self.stderr.write(_("row %(row)s, %(column)s: %(message)s") % item)
        if report.error_count > 20:
            self.stderr.write(_("… and %(n)d more errors.") % {"n": report.error_count - 20})
        if errors and report.errors:
            write_row_errors(errors, report.errors)


def asdict_counts(report) -> dict:
    return {"accepted": report.accepted, "duplicates": report.duplicates, "rejected": report.rejected,
            "created": report.created, "updated": report.updated}
