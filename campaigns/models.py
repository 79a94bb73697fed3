"""Campaigns, the follow-up tasks they dispatch to account managers, and their outcomes."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.validators import refuse_control_characters
from customers.models import Channel, Customer


def new_seed() -> int:
    return secrets.randbelow(2**31)


class Strategy(models.TextChoices):
    OWNER = "owner", _("Customer's own account manager")
    ROUND_ROBIN = "round_robin", _("Round robin over chosen account managers")
    LEAST_OPEN = "least_open", _("Fewest open tasks first")
    BRANCH = "branch", _("Account managers of the customer's branch")


class Priority(models.IntegerChoices):
    HIGH = 1, _("High")
    NORMAL = 2, _("Normal")
    LOW = 3, _("Low")


class Purpose(models.TextChoices):
    MARKETING = "marketing", _("Marketing")
    SERVICE = "service", _("Service")


class Campaign(models.Model):
    """A marketing action: an audience, a channel, a budget, and the tasks it dispatches."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        RUNNING = "running", _("Running")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    name = models.CharField(_("name"), max_length=160, unique=True, validators=[refuse_control_characters])
    slug = models.SlugField(_("slug"), max_length=80, unique=True, allow_unicode=False,
                            help_text=_("Used in result tags such as <slug>-converted."))
    objective = models.TextField(_("objective"), blank=True)
    product = models.CharField(_("product promoted"), max_length=120, blank=True,
                               validators=[refuse_control_characters])
    channel = models.CharField(_("channel"), max_length=16, choices=Channel, default=Channel.PHONE)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority, default=Priority.NORMAL)

    # The audience: a saved segment or an inline expression. Both are frozen at launch.
    segment = models.ForeignKey("segments.Segment", verbose_name=_("segment"), on_delete=models.PROTECT,
                                null=True, blank=True, related_name="campaigns")
    expression = models.JSONField(_("expression"), null=True, blank=True)
    text = models.TextField(_("expression text"), blank=True)

    start_at = models.DateTimeField(_("start"), null=True, blank=True,
                                    help_text=_("A scheduled campaign launches by itself at this time."))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    due_date = models.DateField(_("task due date"), null=True, blank=True)
    sla_days = models.PositiveSmallIntegerField(_("SLA days"), null=True, blank=True,
                                                help_text=_("Tasks are due this many days after launch "
                                                            "(when no due date is set)."))

    cost_fixed = models.DecimalField(_("fixed budget"), max_digits=14, decimal_places=2, default=0,
                                     validators=[MinValueValidator(0)])
    cost_per_contact = models.DecimalField(_("cost per contact"), max_digits=10, decimal_places=2, default=0,
                                           validators=[MinValueValidator(0)])
    value_per_conversion = models.DecimalField(_("expected value per conversion"), max_digits=14, decimal_places=2,
                                               null=True, blank=True, validators=[MinValueValidator(0)])
    holdout_pct = models.DecimalField(_("holdout %"), max_digits=5, decimal_places=2, default=0,
                                      validators=[MinValueValidator(0), MaxValueValidator(50)],
                                      help_text=_("Share of the audience kept out of contact to measure uplift."))
    strategy = models.CharField(_("assignment"), max_length=16, choices=Strategy, default=Strategy.OWNER)
    account_managers = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("account managers"),
                                              blank=True, related_name="+")
    holdout_seed = models.PositiveIntegerField(_("holdout seed"), default=new_seed,
                                               help_text=_("The same seed draws the same holdout group."))
    frequency_cap_days = models.PositiveSmallIntegerField(
        _("frequency cap (days)"), default=0,
        help_text=_("Skip customers given a task by another campaign in the last N days (0: no cap)."))
    script = models.TextField(_("call script"), blank=True)
    purpose = models.CharField(
        _("purpose"), max_length=10, choices=Purpose, default=Purpose.MARKETING,
        help_text=_("Service contacts (an account opening to finish, a product maturing) may be exempt from the "
                    "contact-pressure limits; marketing contacts never are."))
    # What the campaign sells (activity app): purchases of these by audience customers — treated and
    # holdout alike — within attribution_days after launch are its attributed conversions.
    products = models.ManyToManyField("activity.Product", verbose_name=_("products promoted"), blank=True,
                                      related_name="campaigns")
    attribution_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("A purchase of a promoted product this many days after launch counts as a conversion."))
    suitability = models.BooleanField(
        _("suitability check"), default=True,
        help_text=_("Exclude customers whose risk level is below the riskiest product promoted (no assessment: "
                    "suitable for R1 only). Switching it off is recorded."))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
                              related_name="campaigns")

    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.DRAFT)
    # Maker–checker (settings.CAMPAIGN_APPROVAL_REQUIRED): a second marketing manager's approval of
    # the settings as they stand; a change of a launch setting withdraws it.
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    launch_job = models.ForeignKey("core.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # A wave of a recurring template (campaigns.recurring): one campaign per template and day, so
    # that each wave is measured on its own and the template's waves together.
    template = models.ForeignKey("campaigns.CampaignTemplate", verbose_name=_("recurring template"),
                                 on_delete=models.PROTECT, null=True, blank=True, related_name="waves")
    wave_date = models.DateField(_("wave of"), null=True, blank=True)
    # The contact window of the launch day: tasks are due by its end (Task.due_at).
    contact_from = models.TimeField(_("contact from"), null=True, blank=True)
    contact_until = models.TimeField(_("contact until"), null=True, blank=True)
    # Created by a history import (campaigns.analytics.history): only such campaigns take imported rows.
    imported = models.BooleanField(_("imported history"), default=False, editable=False)
    # Frozen at launch: what the audience was and what became of it.
    launched_text = models.TextField(_("audience at launch"), blank=True)
    audience_size = models.PositiveIntegerField(_("audience"), null=True, blank=True)
    excluded = models.JSONField(_("excluded"), default=dict, blank=True)
    holdout_size = models.PositiveIntegerField(_("holdout"), null=True, blank=True)
    task_count = models.PositiveIntegerField(_("tasks"), null=True, blank=True)
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(condition=Q(holdout_pct__gte=0) & Q(holdout_pct__lte=50),
                                   name="campaign_holdout_pct_range"),
            # A beat retried or run twice finds the day's wave taken.
            models.UniqueConstraint(fields=["template", "wave_date"], name="campaign_one_wave_per_day",
                                    condition=Q(template__isnull=False)),
        ]

    def __str__(self) -> str:
        return self.name

    # What a launch does: fixed once launched (the form disables them, the API refuses changes).
    LAUNCH_FIELDS = frozenset({"channel", "priority", "segment", "expression", "text", "start_at", "due_date",
                               "sla_days", "holdout_pct", "holdout_seed", "strategy", "account_managers",
                               "frequency_cap_days", "products", "attribution_days", "suitability", "purpose"})

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.SCHEDULED)


class CampaignTransition(models.Model):
    """Who moved a campaign from one status to another, and when."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(_("from"), max_length=12, choices=Campaign.Status, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=Campaign.Status)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                           related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]


class CampaignSettingChange(models.Model):
    """An audited change of a campaign setting that compliance reads (today: the suitability check)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="setting_changes")
    field = models.CharField(_("setting"), max_length=40)
    before = models.CharField(_("before"), max_length=200, blank=True)
    after = models.CharField(_("after"), max_length=200)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                           related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


class Task(models.Model):
    """One customer to follow up in one campaign; control-group rows are never worked."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        SKIPPED = "skipped", _("Skipped")
        CANCELLED = "cancelled", _("Cancelled")

    class Group(models.TextChoices):
        TREATMENT = "treatment", _("Contacted (treatment)")
        CONTROL = "control", _("Holdout (control)")

    class ContactResult(models.TextChoices):
        REACHED = "reached", _("Reached")
        UNREACHABLE = "unreachable", _("Unreachable")
        WRONG_NUMBER = "wrong_number", _("Wrong number")
        REFUSED = "refused", _("Refused contact")

    class Response(models.TextChoices):
        CONVERTED = "converted", _("Converted")
        INTERESTED = "interested", _("Interested")
        NOT_INTERESTED = "not_interested", _("Not interested")
        DECLINED = "declined", _("Declined")
        CALL_BACK = "call_back", _("Call back later")

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    # No database FK constraints on the big columns: a launch inserts hundreds of thousands of
    # rows in one statement and per-row RI triggers would cost a third of it. Django still
    # cascades deletes; the service is the only writer.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tasks", db_constraint=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tasks", db_constraint=False,
                                 db_index=False)  # served by task_customer_idx
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("account manager"),
                                 on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks",
                                 db_constraint=False, db_index=False)
    group = models.CharField(_("group"), max_length=10, choices=Group, default=Group.TREATMENT)
    # The channel actually used: the campaign's, or what a history import recorded (e.g. "cellular").
    channel = models.CharField(_("channel"), max_length=32, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.OPEN)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority, default=Priority.NORMAL)
    due_date = models.DateField(_("due"), null=True, blank=True)
    # The due time where one applies: the end of a wave's contact window, a key-event rule's SLA.
    due_at = models.DateTimeField(_("due by"), null=True, blank=True)
    follow_up_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                     db_index=False)  # task_follow_up_idx: launches never write it
    # Made by a key-event rule (campaigns.triggers): the rule, and the event that fired it (none for a
    # rule on a condition, e.g. assets down 30 %). Such tasks are many per customer in the rule's campaign.
    trigger = models.ForeignKey("campaigns.TriggerRule", verbose_name=_("trigger"), on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="tasks", db_constraint=False, db_index=False)
    trigger_event = models.ForeignKey("activity.Event", verbose_name=_("event"), on_delete=models.SET_NULL,
                                      null=True, blank=True, related_name="+", db_constraint=False, db_index=False)
    version = models.PositiveIntegerField(_("version"), default=1)

    contact_result = models.CharField(_("contact result"), max_length=16, choices=ContactResult, blank=True)
    response = models.CharField(_("response"), max_length=16, choices=Response, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=40, blank=True)
    failure_note = models.CharField(_("reason details"), max_length=200, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2, null=True, blank=True)
    product = models.CharField(_("product"), max_length=120, blank=True)
    note = models.TextField(_("note"), blank=True)
    next_follow_up = models.DateField(_("next follow-up"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [
            # One launch task per customer and campaign: a retried launch cannot duplicate.
            models.UniqueConstraint(fields=["campaign", "customer"],
                                    condition=Q(follow_up_of__isnull=True, trigger__isnull=True),
                                    name="task_one_per_campaign_customer"),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gte=0), name="task_amount_not_negative"),
        ]
        indexes = [
            # The account manager's open queue in its default order: the first page, the bucket
            # counts and the pagination count read this index alone (a few ms at 40k tasks each).
            models.Index(fields=["assignee", "due_date", "priority", "id"], name="task_open_queue_idx",
                         condition=Q(group="treatment", status__in=["open", "in_progress"])),
            models.Index(fields=["assignee", "status"], name="task_assignee_status_idx",
                         condition=Q(group="treatment")),
            models.Index(fields=["customer", "created_at"], name="task_customer_idx"),
            models.Index(fields=["follow_up_of"], name="task_follow_up_idx", condition=Q(follow_up_of__isnull=False)),
            models.Index(fields=["trigger", "id"], name="task_trigger_idx", condition=Q(trigger__isnull=False)),
            # Which customers have a follow-up in a campaign: the metrics group only those (small: follow-ups only).
            models.Index(fields=["campaign", "customer"], name="task_followed_customer_idx",
                         condition=Q(follow_up_of__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.customer_id}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class Outcome(models.TextChoices):
    """An outcome as an account manager picks it (keys 1–8) and a history file names it.

    The one definition of outcome codes: each is a (contact result, response) pair on the task.
    """

    CONVERTED = "converted", _("Converted")
    INTERESTED = "interested", _("Interested")
    CALL_BACK = "call_back", _("Call back later")
    NOT_INTERESTED = "not_interested", _("Not interested")
    DECLINED = "declined", _("Declined")
    UNREACHABLE = "unreachable", _("Unreachable")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    REFUSED = "refused", _("Refused contact")

    @property
    def parts(self) -> tuple[str, str]:
        """(contact_result, response) as stored on the task."""
        if self.value in Task.Response.values:
            return Task.ContactResult.REACHED, self.value
        return self.value, ""

    @classmethod
    def of(cls, contact_result: str, response: str) -> "Outcome | None":
        """The outcome a task's stored pair stands for (None: nothing logged yet)."""
        return next((outcome for outcome in cls if outcome.parts == (contact_result, response)), None)


class TaskReassignment(models.Model):
    """A task moved from one account manager to another (kept for the task's history)."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="reassignments")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


class FailureReason(models.Model):
    """Why a customer said no: a list marketing can extend (admin), shown in the outcome form."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label = models.CharField(_("label"), max_length=80)
    needs_text = models.BooleanField(_("asks for details"), default=False,
                                     help_text=_("The account manager must describe it (e.g. “other”)."))
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("failure reason")
        verbose_name_plural = _("failure reasons")

    def __str__(self) -> str:
        return gettext(self.label)


class OutcomeChange(models.Model):
    """One saved outcome of a task: who, when, and the outcome fields before and after."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="outcome_changes")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    version = models.PositiveIntegerField(_("version"))  # the task's version this change produced
    before = models.JSONField(_("before"), default=dict)
    after = models.JSONField(_("after"), default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["task", "at"], name="outcome_change_task_idx")]


class SavedTaskView(models.Model):
    """An account manager's named filter of their queue (e.g. “high assets, overdue”)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_task_views")
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filter"), max_length=500)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_task_view_unique_name")]

    def __str__(self) -> str:
        return self.name


class CampaignMetrics(models.Model):
    """The campaign's metrics as last computed by a job (campaigns.metrics), for fast reads.

    `requested_at` is set when an outcome changes; a refresh job computes only when it is newer
    than `computed_at`, so a burst of outcomes costs one computation (the debounce).
    """

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, primary_key=True, related_name="metrics")
    data = models.JSONField(_("metrics"), default=dict)
    computed_at = models.DateTimeField(_("computed"), null=True, blank=True)
    requested_at = models.DateTimeField(_("requested"), null=True, blank=True)
    # When a refresh job was last handed to the broker (None: none waiting). A refresh queued
    # longer ago than stored.LOST_AFTER_S is presumed lost (broker outage) and queued again.
    queued_at = models.DateTimeField(_("refresh queued"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign metrics")
        verbose_name_plural = _("campaign metrics")


class ResultTag(models.Model):
    """The tag a campaign writes one result into (campaigns.analytics.result_tags).

    Ownership is this row, never the slug: a result tag is created with a free slug and then found
    through here, so no manual tag or other campaign's tag with a lookalike slug is ever rewritten.
    """

    class Result(models.TextChoices):
        CONVERTED = "converted", _("converted")
        INTERESTED = "interested", _("interested")
        DECLINED = "declined", _("declined")
        UNREACHABLE = "unreachable", _("unreachable")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="result_tags")
    result = models.CharField(_("result"), max_length=12, choices=Result)
    tag = models.OneToOneField("customers.Tag", on_delete=models.CASCADE, related_name="result_of")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "result"], name="one_result_tag_per_result")]
        verbose_name = _("result tag")
        verbose_name_plural = _("result tags")


def unique_slug(name: str, *, exclude_pk: int | None = None) -> str:
    """A campaign slug made from its name, numbered when taken (result tags are named after it)."""
    base = slugify(name)[:70] or "campaign"
    slug, number = base, 2
    taken = Campaign.objects.exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class CampaignTemplate(models.Model):
    """A recurring campaign: a crowd (segment), a plan, a channel and a contact window on a weekday.
    Beat launches it as a wave — a campaign of its own (Campaign.template) — each week when the window
    opens (campaigns.recurring); the week grid plans and edits the templates, the Monday review
    proposes continue / stop / change for each from last week's waves."""

    name = models.CharField(_("name"), max_length=120, unique=True, validators=[refuse_control_characters])
    plan = models.CharField(_("plan"), max_length=160, validators=[refuse_control_characters],
                            help_text=_("What the wave offers, e.g. “from user to customer: first fund purchase”."))
    segment = models.ForeignKey("segments.Segment", verbose_name=_("crowd (segment)"), on_delete=models.PROTECT,
                                null=True, blank=True, related_name="templates")
    expression = models.JSONField(_("expression"), null=True, blank=True)
    text = models.TextField(_("crowd (expression)"), blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel, default=Channel.PHONE)
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday)
    window_start = models.TimeField(_("contact from"))
    window_end = models.TimeField(_("contact until"))
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority, default=Priority.NORMAL)
    script = models.TextField(_("call script"), blank=True)
    holdout_pct = models.DecimalField(_("holdout %"), max_digits=5, decimal_places=2, default=10,
                                      validators=[MinValueValidator(0), MaxValueValidator(50)])
    strategy = models.CharField(_("assignment"), max_length=16, choices=Strategy, default=Strategy.OWNER)
    account_managers = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("account managers"),
                                              blank=True, related_name="+")
    frequency_cap_days = models.PositiveSmallIntegerField(_("frequency cap (days)"), default=0)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose, default=Purpose.MARKETING)
    products = models.ManyToManyField("activity.Product", verbose_name=_("products promoted"), blank=True,
                                      related_name="templates")
    attribution_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"), default=7, validators=[MinValueValidator(1), MaxValueValidator(365)])
    cost_fixed = models.DecimalField(_("fixed budget per wave"), max_digits=14, decimal_places=2, default=0,
                                     validators=[MinValueValidator(0)])
    cost_per_contact = models.DecimalField(_("cost per contact"), max_digits=10, decimal_places=2, default=0,
                                           validators=[MinValueValidator(0)])
    value_per_conversion = models.DecimalField(_("expected value per conversion"), max_digits=14, decimal_places=2,
                                               null=True, blank=True, validators=[MinValueValidator(0)])
    active = models.BooleanField(_("active"), default=True, help_text=_("Only active templates launch waves."))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
                              related_name="campaign_templates")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), on_delete=models.PROTECT,
                                    null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # What each wave is launched with; changing one withdraws an approval.
    WAVE_FIELDS = ("channel", "priority", "script", "holdout_pct", "strategy", "frequency_cap_days", "purpose",
                   "attribution_days", "cost_fixed", "cost_per_contact", "value_per_conversion", "segment_id",
                   "expression", "text")
    APPROVED_FIELDS = frozenset(WAVE_FIELDS + ("weekday", "window_start", "window_end", "account_managers",
                                               "products"))

    class Meta:
        ordering = ["weekday", "window_start", "name"]
        verbose_name = _("recurring campaign template")
        verbose_name_plural = _("recurring campaign templates")
        constraints = [
            models.CheckConstraint(condition=Q(window_start__lt=F("window_end")), name="template_window_order",
                                   violation_error_message=_("The contact window ends after it starts (on the same "
                                                             "day).")),
            models.CheckConstraint(condition=Q(holdout_pct__gte=0) & Q(holdout_pct__lte=50),
                                   name="template_holdout_pct_range"),
        ]

    def __str__(self) -> str:
        return self.name


class TriggerRule(models.Model):
    """A key-event rule: when a customer does something (or does A and not B within N hours, or
    enters a condition such as `asset_change_30d <= -0.3`), their account manager gets a task — or an
    alert — at once, at most once per customer per window. Its tasks live in a campaign of their own
    (`campaign`), so that outcomes, success rates and conversions are measured as for any campaign."""

    class Action(models.TextChoices):
        TASK = "task", _("Task for the account manager")
        ALERT = "alert", _("Alert to the account manager")

    class QuietHours(models.TextChoices):
        DEFER = "defer", _("Defer to the next contact window")
        DROP = "drop", _("Drop")

    name = models.CharField(_("name"), max_length=120, unique=True, validators=[refuse_control_characters])
    event = models.CharField(_("event type"), max_length=64, blank=True,
                             help_text=_("Fires when a customer has this event. Empty: fires when a customer "
                                         "enters the segment (a condition such as asset_change_30d <= -0.3)."))
    properties = models.JSONField(_("event properties"), default=dict, blank=True)
    absent_event = models.CharField(_("unless followed by"), max_length=64, blank=True)
    absent_within_hours = models.PositiveIntegerField(_("within (hours)"), null=True, blank=True,
                                                      validators=[MinValueValidator(1), MaxValueValidator(24 * 90)])
    expression = models.JSONField(_("segment"), null=True, blank=True)
    text = models.TextField(_("segment (text)"), blank=True)
    # A threshold change on activity (campaigns.triggers.thresholds), e.g. {"kind": "maturing", "days": 7}:
    # a condition rule fires for customers who enter it (within the segment).
    threshold = models.JSONField(_("threshold"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=8, choices=Action, default=Action.TASK)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority, default=Priority.HIGH)
    sla_hours = models.PositiveIntegerField(_("SLA (hours)"), default=24,
                                            validators=[MinValueValidator(1), MaxValueValidator(24 * 60)])
    script = models.TextField(_("call script"), blank=True)
    service = models.BooleanField(
        _("service contact"), default=False,
        help_text=_("A service contact (helping finish an account opening) rather than marketing: exempt from the "
                    "contact-pressure limits that exempt service."))
    quiet_hours = models.CharField(_("in quiet hours"), max_length=8, choices=QuietHours, default=QuietHours.DEFER)
    window_hours = models.PositiveIntegerField(
        _("at most once per (hours)"), default=24, validators=[MinValueValidator(1), MaxValueValidator(24 * 365)],
        help_text=_("At most one task or alert per customer in each window of this length (24: per day)."))
    active = models.BooleanField(_("active"), default=True)
    # A condition rule's members at its last look (a serialized roaring bitmap): who enters is new.
    baseline = models.BinaryField(null=True, editable=False)
    campaign = models.OneToOneField(Campaign, on_delete=models.PROTECT, related_name="trigger_rule")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("trigger rule")
        verbose_name_plural = _("trigger rules")

    def __str__(self) -> str:
        return self.name


class TriggerFiring(models.Model):
    """What a rule did for one customer in one window — the row that makes "at most once" hold: it is
    unique per (rule, customer, window) and written in the transaction that makes the task.

    A firing waiting for its time (an absence to confirm, quiet hours to pass) has `due_at`; the
    minute job settles it."""

    class Outcome(models.TextChoices):
        WAITING = "waiting", _("Waiting for the absence window")
        DEFERRED = "deferred", _("Deferred past quiet hours")
        TASK = "task", _("Task made")
        ALERT = "alert", _("Alert sent")
        FOLLOWED = "followed", _("Followed by the expected event")
        QUIET_DROPPED = "quiet_dropped", _("Dropped in quiet hours")
        DO_NOT_CONTACT = "do_not_contact", _("Do not contact")
        NO_ACCOUNT_MANAGER = "no_account_manager", _("No account manager")
        OPTED_OUT = "opted_out", _("Opted out of this channel")
        CONTACT_PRESSURE = "contact_pressure", _("Contact-pressure limit reached")
        STOPPED = "stopped", _("Rule switched off before its time")

    rule = models.ForeignKey(TriggerRule, on_delete=models.CASCADE, related_name="firings")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False)
    window_key = models.BigIntegerField(_("window"))  # local hours since 1970 // window_hours
    event = models.ForeignKey("activity.Event", on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                              db_constraint=False, db_index=False)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    task = models.OneToOneField(Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="firing",
                                db_constraint=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="trigger_alerts", db_constraint=False, db_index=False)
    seen_at = models.DateTimeField(_("seen"), null=True, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["rule", "customer", "window_key"], name="firing_once_per_window")]
        indexes = [
            models.Index(fields=["due_at"], name="firing_due_idx", condition=Q(due_at__isnull=False)),
            models.Index(fields=["recipient", "at"], name="firing_alert_idx", condition=Q(outcome="alert")),
        ]


class PendingTriggerEvent(models.Model):
    """An event stored but not yet looked at by the rules: written in the ingest's own transaction
    (activity.signals.events_stored), deleted in the transaction that acts on it — so an event is
    neither lost nor acted on twice, whatever the worker does in between."""

    event = models.OneToOneField("activity.Event", primary_key=True, on_delete=models.CASCADE, related_name="+",
                                 db_constraint=False)


class ContactLimit(models.Model):
    """A contact-pressure limit every launch and every key-event rule obeys: at most `max_contacts`
    contacts (tasks for the customer's account manager) per customer in any `period_days`, on one
    channel or on all. Counted across every campaign and rule; a customer over it is excluded with
    the reason "contact_pressure"."""

    channel = models.CharField(_("channel"), max_length=16, choices=Channel, blank=True,
                               help_text=_("Empty: contacts on every channel count together."))
    period_days = models.PositiveSmallIntegerField(_("period (days)"),
                                                   validators=[MinValueValidator(1), MaxValueValidator(90)])
    max_contacts = models.PositiveSmallIntegerField(_("at most (contacts)"),
                                                    validators=[MinValueValidator(1), MaxValueValidator(100)])
    exempt_service = models.BooleanField(_("service contacts exempt"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["period_days", "channel", "pk"]
        verbose_name = _("contact-pressure limit")
        verbose_name_plural = _("contact-pressure limits")
        constraints = [models.UniqueConstraint(fields=["channel", "period_days"], name="contact_limit_unique")]

    def __str__(self) -> str:
        return gettext("at most %(n)d per %(days)d days") % {"n": self.max_contacts, "days": self.period_days}
