from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from scores.services import compute_scores


class Command(BaseCommand):
    help = _("Compute every score of every customer as of a day (default today) and publish them as one run.")

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help=_("the day the scores are as of, YYYY-MM-DD"))

    def handle(self, *args, as_of=None, **options):
        try:
            day = date.fromisoformat(as_of) if as_of else None
        except ValueError as error:
            raise CommandError(_("--as-of needs a date like 2026-01-31 (got %(value)s).") % {"value": as_of}) from error
        run = compute_scores(as_of=day)
        model = run.churn_model
        self.stdout.write(_("Run %(run)d as of %(day)s: %(customers)d customers in %(seconds).1f s.") % {
            "run": run.pk, "day": run.as_of, "customers": run.inputs.get("written", 0), "seconds": run.took_seconds})
        if model:
            self.stdout.write(_("Churn model (BG/NBD) on %(n)d customers: r %(r).4f, alpha %(alpha).4f, a %(a).4f, "
                                "b %(b).4f, log-likelihood %(ll).2f.") % {
                "n": model["customers"], "r": model["r"], "alpha": model["alpha"], "a": model["a"], "b": model["b"],
                "ll": model["log_likelihood"]})
        else:
            self.stdout.write(_("Churn model: not enough repeat purchases to fit."))
