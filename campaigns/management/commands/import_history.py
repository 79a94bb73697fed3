"""manage.py import_history PATH — past contacts become completed campaigns and their tasks."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from campaigns import history, results
from campaigns.models import Campaign
from customers.importing import ImportFileError


class Command(BaseCommand):
    help = ("Import past contacts (customer_external_id, campaign, channel, contacted_at, result, amount), "
            "or replay the bank-marketing file. Safe to run again.")

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--no-tags", action="store_true", help="do not write result tags")

    def handle(self, *args, path, no_tags, **options):
        if not Path(path).exists():
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        try:
            report = history.import_history(path)
        except ImportFileError as error:
            raise CommandError(str(error)) from error
        for campaign_id in report.campaign_ids:
            results.refresh_metrics(campaign_id=campaign_id, force=True)
            if not no_tags:

                results.tag_results(campaign=Campaign.objects.get(pk=campaign_id))
        self.stdout.write(_("rows %(rows)d: tasks created %(created)d, already there %(unchanged)d, rejected "
                            "%(rejected)d; new campaigns: %(campaigns)s") % {
            "rows": report.rows, "created": report.tasks_created, "unchanged": report.unchanged,
            "rejected": report.rejected, "campaigns": ", ".join(report.campaigns_created) or "—"})
        for item in report.errors[:20]:
            self.stderr.write(_("row %(row)s, %(column)s: %(message)s") % item)
        if len(report.errors) > 20:
            self.stderr.write(_("… and %(n)d more errors.") % {"n": len(report.errors) - 20})
