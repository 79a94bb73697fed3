"""manage.py import_customers PATH [--mapping FILE.json|PRESET] [--delimiter ;] [--encoding gb18030]"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.exports import write_row_errors
from customers.importing import ENCODINGS, ImportFileError, import_customers
from customers.mapping import PRESETS


class Command(BaseCommand):
    help = "Import customers from a CSV or XLSX file (same engine as the UI and API)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--mapping", help="a JSON mapping file, or a preset: " + ", ".join(PRESETS))
        parser.add_argument("--delimiter", help="CSV delimiter; sniffed from the header if not given")
        parser.add_argument("--encoding", choices=list(ENCODINGS),
                            help="the file's text encoding; detected (UTF-8, else GBK) if not given")
        parser.add_argument("--errors", help="write the row-level errors to this CSV file")

    def handle(self, *args, path, mapping, delimiter, encoding, errors, **options):
        if not Path(path).exists():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        if mapping and mapping not in PRESETS:
            try:
                mapping = json.loads(Path(mapping).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as error:
                raise CommandError(_("Cannot read the mapping: %(error)s") % {"error": error}) from error

        def progress(done, total, stage):
            if options["verbosity"] > 1:
                self.stderr.write(f"{stage}: {done}/{total}")

        try:
            report = import_customers(path, mapping=mapping, delimiter=delimiter, encoding=encoding,
                                     progress=progress)
        except ImportFileError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            _("created %(created)d, updated %(updated)d, unchanged %(unchanged)d, rejected %(rejected)d "
              "(%(links)d tag links added, %(tags)d new tags)")
            % {"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
               "rejected": report.rejected, "links": report.tag_links_added, "tags": report.tags_created}
        )
        for item in report.errors[:20]:
            self.stderr.write(_("row %(row)s, %(column)s: %(message)s") % item)
        if report.error_count > 20:
            self.stderr.write(_("… and %(n)d more errors.") % {"n": report.error_count - 20})
        if errors and report.errors:

            write_row_errors(errors, report.errors)
