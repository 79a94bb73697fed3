"""manage.py seed_demo — idempotent demo data: branches, users of each role, the 45,211
bank-marketing customers with their tags spread across account managers, a saved segment and
a launched campaign whose tasks wait in the account managers' queues (40 % of them with synthetic
outcomes), and the file's outcomes replayed as past campaigns (so the reports start with 45,211
contacts). What the file lacks — names, deposit amounts — is synthetic and labelled so (campaigns.demo)."""

from datetime import time, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.demo import USERS, ensure_demo_users
from accounts.models import User
from accounts.roles import Role
from activity import demo as activity_demo
from activity.models import DormancyGoal, Product
from activity.services import record_dormancy, set_dormancy_goal
from autotags import services as rule_services
from autotags.models import RuleApplication, TagRule
from campaigns import demo
from campaigns.analytics import history, result_tags, stored
from campaigns.lifecycle import services as campaign_services
from campaigns.models import Campaign, CampaignTemplate, TriggerRule
from campaigns.recurring import services as recurring_services
from campaigns.triggers import services as trigger_services
from customers.importing import import_customers
from customers.models import Customer, Tag
from scores.services import compute_scores
from segments.models import Segment
from segments.services import save_segment

BANK_FILE = Path(settings.BASE_DIR) / "data" / "bank-marketing" / "bank-full.csv"
DEMO_RULES = [(gettext_lazy("Churn warning"), "churn-warning", "churn_risk >= 0.7"),
              (gettext_lazy("High purchase intent"), "intent-top", "intent_group = top")]
DEMO_TRIGGERS = [
    (gettext_lazy("Account opening failed"), {
        "event": "account_opening_failed", "action": "task", "priority": 1, "sla_hours": 4,
        "script": gettext_lazy("Call the same day: say which step failed and offer to finish the opening together.")}),
    (gettext_lazy("Heavy asset drop"), {"segment": "asset_change_30d <= -0.3", "action": "alert", "window_hours": 24 * 7}),
    (gettext_lazy("Product maturing"), {
        "threshold": {"kind": "maturing", "days": 14}, "action": "task", "priority": 2, "sla_hours": 48,
        "window_hours": 24 * 30, "service": True,
        "script": gettext_lazy("Tell the customer their product matures within two weeks and go through the "
                               "reinvestment choices.")}),
]
# The seed's operations week (Monday is the review): crowd × plan × channel × contact window, each wave
# measured by purchases of what it promotes (treated and holdout alike).
DEMO_WEEK = [
    {"name": gettext_lazy("From user to customer · push"), "plan": gettext_lazy("First fund purchase, fee waived"),
     "text": "NOT bought(type = fund) AND job-student AND contact-cellular", "channel": "app_push", "weekday": 1,
     "window": ("08:30", "09:30"), "products": ["FUND-09"]},
    {"name": gettext_lazy("From user to customer · SMS"), "plan": gettext_lazy("First fund purchase, fee waived"),
     "text": "NOT bought(type = fund) AND job-student AND NOT contact-cellular", "channel": "sms", "weekday": 1,
     "window": ("08:30", "09:30"), "products": ["FUND-09"]},
    {"name": gettext_lazy("Deposit reinvestment"), "plan": gettext_lazy("Roll the maturing deposit into a 3-year rate"),
     "text": "holds(DEPOS-01) AND assets >= 5000", "channel": "phone", "weekday": 2, "window": ("10:00", "11:30"),
     "products": ["DEPOS-02"]},
    {"name": gettext_lazy("Dormant wake-up"), "plan": gettext_lazy("Wake-up gift: a 3-month fund trial"),
     "text": "recency_days >= 180 AND job-retired AND assets >= 1000", "channel": "wechat", "weekday": 3,
     "window": ("14:00", "16:00"), "products": ["WEALT-02"]},
    {"name": gettext_lazy("High-asset care"), "plan": gettext_lazy("Quarterly portfolio review"),
     "text": "assets >= 20000", "channel": "phone", "weekday": 4, "window": ("09:00", "10:00"),
     "products": ["ADVIS-01"]},
]


class Command(BaseCommand):
    help = "Load demo branches, users and the bank-marketing customers (safe to run again)."

    def handle(self, *args, **options):
        ensure_demo_users()
        report = import_customers(BANK_FILE, mapping="bank-marketing")
        self.stdout.write(_("Customers: created %(c)d, updated %(u)d, unchanged %(n)d, rejected %(r)d.")
                          % {"c": report.created, "u": report.updated, "n": report.unchanged, "r": report.rejected})
        spread = self.spread_customers()
        self.stdout.write(_("Gave %(n)d customers an account manager and branch.") % {"n": spread})
        named = demo.name_customers()
        self.stdout.write(_("Named %(n)d customers (synthetic Chinese names).") % {"n": named})
        self.seed_activity()
        self.seed_campaign()
        self.replay_history()
        self.seed_scores()
        self.seed_triggers()
        self.seed_week()
        self.seed_dormancy()

    def seed_week(self) -> None:
        """The seed's recurring templates (created once); beat launches each as a wave when its window opens."""
        mia = User.objects.get(username="mia")
        for plan in DEMO_WEEK:
            name = str(plan["name"])
            if CampaignTemplate.objects.filter(name=name).exists():
                continue
            start, end = (time.fromisoformat(part) for part in plan["window"])
            recurring_services.save_template(by=mia, template=CampaignTemplate(
                name=name, plan=str(plan["plan"]), text=plan["text"], channel=plan["channel"], weekday=plan["weekday"],
                window_start=start, window_end=end, holdout_pct=10, cost_per_contact=2, attribution_days=7),
                products=list(Product.objects.filter(code__in=plan["products"])))
            self.stdout.write(_("Recurring template “%(name)s” planned.") % {"name": name})

    def seed_activity(self) -> None:
        """50 products and a year of synthetic transactions, events and holdings for the bank customers."""
        ids = np.array(list(Customer.objects.filter(external_id__startswith="bank-").values_list("id", flat=True)))
        counts = activity_demo.write_activity(ids, per_customer=4, events_per_customer=2)
        self.stdout.write(_("Activity: %(t)d transactions, %(e)d events, %(h)d holdings added (synthetic).") % {
            "t": counts["transactions"], "e": counts["events"], "h": counts["holdings"]})

    def replay_history(self) -> None:
        """The bank-marketing outcomes as past campaigns (bank-term-deposit and its predecessor)."""
        report = history.import_history(BANK_FILE)
        priced = demo.price_past_conversions(report.campaign_ids)
        self.stdout.write(_("Gave %(n)d past conversions a synthetic revenue, and the past campaigns a cost per "
                            "contact.") % {"n": priced})
        for campaign_id in report.campaign_ids:
            stored.refresh_metrics(campaign_id=campaign_id, force=True)
            if report.tasks_created:
                result_tags.tag_results(campaign=Campaign.objects.get(pk=campaign_id))
        self.stdout.write(_("History: %(created)d past contacts added (%(unchanged)d already there).") % {
            "created": report.tasks_created, "unchanged": report.unchanged})

    def seed_scores(self) -> None:
        """A score run over the demo activity, and two auto-tag rules on it (created once)."""
        run = compute_scores()
        self.stdout.write(_("Scores: run %(run)d for %(n)d customers in %(s).1f s.") % {
            "run": run.pk, "n": run.inputs.get("written", 0), "s": run.took_seconds})
        mia = User.objects.get(username="mia")
        for name, slug, text in DEMO_RULES:
            rule = TagRule.objects.filter(tag__slug=slug).first()
            if rule is None and not Tag.objects.filter(slug=slug).exists():
                rule = rule_services.save_rule(name=str(name), slug=slug, text=text, by=mia)
            if rule is not None:
                applied = rule_services.apply_rule(rule=rule, reason=RuleApplication.Reason.SAVED)
                self.stdout.write(_("Rule “%(name)s”: %(n)d customers carry %(tag)s.") % {
                    "name": rule.name, "n": applied.members, "tag": slug})

    def seed_dormancy(self) -> None:
        """The dormant-share goal of the seed (down to 20 %), once, and the weeks so far recorded."""
        if not DormancyGoal.objects.exists():
            set_dormancy_goal(by=User.objects.get(username="mia"), target_share=Decimal("0.20"), dormant_days=180)
        recorded = record_dormancy()
        self.stdout.write(_("Dormant share recorded for %(n)d days.") % {"n": recorded})

    def seed_triggers(self) -> None:
        """Two key-event rules (created once): a failed account opening makes a task for the owner; a
        heavy asset drop alerts them. The demo's past events are too old to fire them."""
        mia = User.objects.get(username="mia")
        for name, values in DEMO_TRIGGERS:
            if not TriggerRule.objects.filter(name=str(name)).exists():
                trigger_services.save_rule(by=mia, name=str(name), **{key: str(value) if key == "script" else value
                                                                      for key, value in values.items()})
                self.stdout.write(_("Key-event rule “%(name)s” created.") % {"name": name})

    def seed_campaign(self) -> None:
        """A segment and a running campaign (launched once; a second run leaves them as they are)."""
        mia = User.objects.get(username="mia")
        if not Segment.objects.filter(name="Past deposit buyers").exists():
            save_segment(name="Past deposit buyers", text="poutcome-success AND NOT loan-yes", by=mia,
                         description=_("Said yes to the previous campaign and carry no personal loan."))
        if Campaign.objects.filter(slug="term-deposit-recall").exists():
            return
        campaign = campaign_services.save_campaign(by=mia, campaign=Campaign(
            name="Term deposit recall", slug="term-deposit-recall", channel="phone", product="3-year term deposit",
            objective=_("Win back customers who bought a deposit last time. (Demo: the outcomes logged so far are "
                        "synthetic.)"), segment=Segment.objects.get(
                name="Past deposit buyers"), holdout_pct=10, strategy="owner", cost_fixed=2000, cost_per_contact=3,
            value_per_conversion=450, due_date=timezone.localdate() + timedelta(days=7), owner=mia, holdout_seed=1125,
            attribution_days=30, script=_("Greet the customer by name. Mention last year's deposit and today's 3-year rate. "
                     "Ask whether they would like the rate sheet; note any objection.")))
        campaign.products.set(Product.objects.filter(code="DEPOS-01"))
        job = campaign_services.queue_launch(campaign=campaign, by=mia)
        result = campaign_services.run_launch(job_id=str(job.pk))
        self.stdout.write(_("Launched “%(name)s”: %(tasks)d tasks, %(holdout)d in holdout.") % {
            "name": campaign.name, "tasks": result.get("tasks", 0), "holdout": result.get("holdout", 0)})
        logged = demo.log_demo_outcomes(Campaign.objects.get(pk=campaign.pk))
        self.stdout.write(_("Logged %(n)d synthetic outcomes for “%(name)s”.") % {"n": logged, "name": campaign.name})
        bought = demo.demo_purchases(Campaign.objects.get(pk=campaign.pk))
        self.stdout.write(_("Recorded %(n)d synthetic purchases of the promoted deposit since launch.") % {"n": bought})

    @transaction.atomic
    def spread_customers(self) -> int:
        """Round-robin the unowned demo customers over the account managers (by id, so stable)."""
        managers = list(User.objects.filter(groups__name=Role.ACCOUNT_MANAGER, username__in=[u[0] for u in USERS])
                        .order_by("username"))
        unowned = Customer.objects.filter(owner__isnull=True, external_id__startswith="bank-")
        given = 0
        for index, manager in enumerate(managers):
            given += unowned.annotate(slot=F("id") % len(managers)).filter(slot=index).update(
                owner=manager, branch_id=manager.branch_id,
            )
        return given
