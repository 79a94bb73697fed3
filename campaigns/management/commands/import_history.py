"""manage.py import_history PATH [--date-format dmy|mdy] [--no-tags] — past contacts become completed
campaigns and their tasks (the same engine as the history upload page)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from campaigns.analytics import history, result_tags, stored
from campaigns.models import Campaign
from customers.importing import ImportFileError


class Command(BaseCommand):
    help = ("Import past contacts (customer_external_id, campaign, channel, contacted_at, result, amount), "
            "or replay the bank-marketing file. Safe to run again.")

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--date-format", choices=list(history.DATE_FORMATS), default=None,
                            help="how contacted_at is written when not YYYY-MM-DD: dmy (03/04/2025 = 3 April) "
                                 "or mdy (= 4 March)")
        parser.add_argument("--no-tags", action="store_true", help="do not write result tags")

    def handle(self, *args, path, date_format, no_tags, **options):
        if not Path(path).exists():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            report = history.import_history(path, date_format=date_format)
        except ImportFileError as error:
            raise CommandError(str(error)) from error
        for campaign_id in report.campaign_ids:
            stored.refresh_metrics(campaign_id=campaign_id, force=True)
            if not no_tags:
                result_tags.tag_results(campaign=Campaign.objects.get(pk=campaign_id))
        self.stdout.write(_("rows %(rows)d: tasks created %(created)d, already there %(unchanged)d, rejected "
                            "%(rejected)d; new campaigns: %(campaigns)s") % {
            "rows": report.rows, "created": report.tasks_created, "unchanged": report.unchanged,
            "rejected": report.rejected, "campaigns": ", ".join(report.campaigns_created) or "—"})
        for item in report.errors[:20]:
            self.stderr.write(_("row %(row)s (line %(line)s), %(column)s: %(message)s") % item)
        if len(report.errors) > 20:
            self.stderr.write(_("… and %(n)d more errors.") % {"n": len(report.errors) - 20})
