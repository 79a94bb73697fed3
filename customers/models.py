"""Customers, tags and the links between them — the raw material of every audience."""

import uuid
from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now, Upper
from django.utils.translation import gettext_lazy as _

from accounts.models import Branch
from core.validators import refuse_control_characters, refuse_unstorable_json


class Gender(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    UNKNOWN = "U", _("Unknown")


class LifecycleStage(models.TextChoices):
    POTENTIAL = "potential", _("Potential")
    NEW = "new", _("New")
    GROWTH = "growth", _("Growth")
    MATURE = "mature", _("Mature")
    DECLINING = "declining", _("Declining")
    CHURNED = "churned", _("Churned")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    APP_PUSH = "app_push", _("App push")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")
    VISIT = "visit", _("Visit")


class Customer(models.Model):
    """A bank or brokerage customer, owned by one account manager in one branch."""

    external_id = models.CharField(_("external id"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=120, blank=True, validators=[refuse_control_characters])
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender, default=Gender.UNKNOWN)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # No single-column FK indexes: the (branch, id) and (owner, id) indexes below serve
    # the same lookups, and every extra index slows a million-row import.
    branch = models.ForeignKey(
        Branch, verbose_name=_("branch"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="customers", db_index=False,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("account manager"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="customers", db_index=False,
    )
    assets = models.DecimalField(_("assets"), max_digits=16, decimal_places=2, default=0)
    risk_level = models.PositiveSmallIntegerField(
        _("risk level"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=16, choices=LifecycleStage, default=LifecycleStage.POTENTIAL
    )
    # Consent: a customer may refuse all contact, or one channel at a time.
    do_not_contact = models.BooleanField(_("do not contact"), default=False)
    opted_out_channels = models.JSONField(
        _("opted-out channels"), default=list, blank=True,
        help_text=_("Channels this customer refused, e.g. [\"sms\", \"phone\"]."),
    )
    extra = models.JSONField(_("extra attributes"), default=dict, blank=True, validators=[refuse_unstorable_json])
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    tags = models.ManyToManyField("Tag", through="CustomerTag", related_name="customers")

    class Meta:
        ordering = ["id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("import_customers", _("Can import customers")),
            ("export_customers", _("Can export customers")),
        ]
        indexes = [
            models.Index(fields=["branch", "id"]),
            models.Index(fields=["owner", "id"]),
            models.Index(fields=["lifecycle_stage", "id"]),
            models.Index(fields=["assets"]),
            # The list's search (customers.filters.search_condition): name and phone prefixes, e-mail
            # in any case. Pattern operator classes let LIKE 'prefix%' use them under any collation.
            models.Index(fields=["name"], name="customer_name_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["phone"], name="customer_phone_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(Upper("email"), name="customer_email_upper_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(risk_level__isnull=True) | models.Q(risk_level__gte=1, risk_level__lte=5),
                name="customer_risk_level_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.external_id

    @property
    def age(self) -> int | None:
        """Whole years since the birth date, or None when it is unknown."""
        if not self.birth_date:
            return None
        today = date.today()
        before_birthday = (today.month, today.day) < (self.birth_date.month, self.birth_date.day)
        return today.year - self.birth_date.year - before_birthday

    def may_be_contacted_by(self, channel: str) -> bool:
        return not self.do_not_contact and channel not in (self.opted_out_channels or [])


class Tag(models.Model):
    """A label on customers; its slug is what segment expressions name."""

    class Category(models.TextChoices):
        ASSET = "asset", _("Asset")
        BEHAVIOUR = "behaviour", _("Behaviour")
        CHANNEL = "channel", _("Channel")
        LIFECYCLE = "lifecycle", _("Lifecycle")
        PROFILE = "profile", _("Profile")
        CAMPAIGN_RESULT = "campaign_result", _("Campaign result")
        OTHER = "other", _("Other")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual")
        IMPORT = "import", _("Import")
        RULE = "rule", _("Rule")
        CAMPAIGN = "campaign", _("Campaign")

    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    name = models.CharField(_("name"), max_length=120, validators=[refuse_control_characters])
    category = models.CharField(_("category"), max_length=20, choices=Category, default=Category.OTHER)
    source = models.CharField(_("source"), max_length=12, choices=Source, default=Source.MANUAL)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.slug


class CustomerTag(models.Model):
    """One customer carrying one tag: who put it there, how, and when."""

    # The unique (customer, tag) and the (tag, customer) index cover both FK lookups.
    # No database FK constraints: the per-row RI triggers cost ~30 % of a million-row import
    # (measured, docs/benchmarks.md). Django still cascades deletes of customers and tags, links
    # are only written by set-based statements that join existing rows, and an orphan could
    # only ever be ignored (the audience index and tag counts join on live tags and customers).
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tag_links", db_index=False,
                                 db_constraint=False)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="customer_links", db_index=False,
                            db_constraint=False)
    source = models.CharField(_("source"), max_length=12, choices=Tag.Source, default=Tag.Source.MANUAL)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer tag")
        verbose_name_plural = _("customer tags")
        constraints = [
            models.UniqueConstraint(fields=["customer", "tag"], name="customer_tag_unique"),
        ]
        # (customer, tag) is covered by the unique constraint; tag-first serves
        # "who carries tag X" — the question every audience and tag count asks.
        indexes = [models.Index(fields=["tag", "customer"], name="customertag_tag_customer")]


class TagChange(models.Model):
    """Audit trail of tag additions and removals on customers (the customer timeline)."""

    class Action(models.TextChoices):
        ADDED = "added", _("added")
        REMOVED = "removed", _("removed")

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="tag_changes")
    tag_slug = models.CharField(_("tag"), max_length=80)
    action = models.CharField(_("action"), max_length=8, choices=Action)
    source = models.CharField(_("source"), max_length=12, choices=Tag.Source)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["customer", "-at"]),
                   # Who entered and left one tag (an auto-tag rule's page).
                   models.Index(fields=["tag_slug", "-at"], name="tagchange_tag_at_idx")]


class DataVersion(models.Model):
    """One row made once per database: the epoch audience caches key on, and how far the change feed was pruned.

    No writer updates this row (it used to be a version counter locked by every customer write, which
    queued all writers behind one another). The epoch changes whenever the row is created anew (a
    fresh or flushed database), so a cache never mistakes another database's position for its own.
    """

    epoch = models.UUIDField(default=uuid.uuid4)
    pruned_before = models.DateTimeField(null=True, blank=True)


class CustomerChange(models.Model):
    """One customer touched by a write to customers or their tag links (None: too many to list).

    Written only by the database triggers of migration 0002, whatever the writer (ORM, raw SQL,
    COPY, admin, cascades), and read by the audience indexes through customers.changes.
    """

    customer_id = models.BigIntegerField(null=True)
    # PostgreSQL: the id of the writing transaction (pg_current_xact_id); 0 on SQLite, where the
    # row id alone orders changes.
    txid = models.BigIntegerField(db_default=0)
    at = models.DateTimeField(db_default=Now())
    # Written by the activity tables' triggers: the customer's behaviour changed, not their attributes or
    # tags, so an index patch re-reads only their activity (and a tag change never re-reads activity:
    # that was 19.5 s of a 22.8 s patch of 25,000 customers at 1M).
    activity = models.BooleanField(db_default=False)

    class Meta:
        indexes = [models.Index(fields=["txid"], name="customer_change_txid_idx"),
                   models.Index(fields=["at"], name="customer_change_at_idx")]


class BulkChange(models.Model):
    """One bulk action on customers (a tag added or removed, an owner assigned): who, when, what,
    and — through its rows — exactly which customers, so that it can be undone from this record."""

    class Action(models.TextChoices):
        ADD_TAG = "add_tag", _("Add tag")
        REMOVE_TAG = "remove_tag", _("Remove tag")
        ASSIGN_OWNER = "assign_owner", _("Assign account manager")

    action = models.CharField(_("action"), max_length=16, choices=Action)
    tag = models.ForeignKey(Tag, verbose_name=_("tag"), on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="+")
    tag_slug = models.CharField(_("tag"), max_length=80, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("account manager"), on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    count = models.PositiveIntegerField(_("customers changed"), default=0)
    summary = models.CharField(_("what changed"), max_length=300)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(_("at"), auto_now_add=True)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("bulk change")
        verbose_name_plural = _("bulk changes")


class BulkChangeRow(models.Model):
    """One customer a bulk change changed, with what it had before (the owner and branch)."""

    change = models.ForeignKey(BulkChange, on_delete=models.CASCADE, related_name="rows")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    previous_owner_id = models.BigIntegerField(null=True)
    previous_branch_id = models.BigIntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["change", "customer"])]
