"""What customers hold, buy and do: products, holdings snapshots, transactions and events.

Every row names its customer, so the audience index can follow these tables like the tag links:
database triggers (migration 0001) write the touched customers into the change feed
(customers.changes) whoever writes, and a product's type change marks everything changed.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.validators import refuse_control_characters, refuse_unstorable_json
from customers.models import Customer


class ProductType(models.TextChoices):
    DEPOSIT = "deposit", _("Deposit")
    WEALTH = "wealth", _("Wealth management")
    FUND = "fund", _("Fund")
    BOND = "bond", _("Bond")
    STOCK = "stock", _("Stock")
    INSURANCE = "insurance", _("Insurance")
    MARGIN = "margin", _("Margin trading")
    ADVISORY = "advisory", _("Advisory")
    OTHER = "other", _("Other")


class ProductStatus(models.TextChoices):
    ON_SALE = "on_sale", _("On sale")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


class TransactionKind(models.TextChoices):
    BUY = "buy", _("Buy")
    REDEEM = "redeem", _("Redeem")
    SELL = "sell", _("Sell")
    DEPOSIT = "deposit", _("Deposit")
    WITHDRAW = "withdraw", _("Withdraw")
    TRADE = "trade", _("Trade")


# Kinds that are about one product and must name it; deposits, withdrawals and trades may not.
KINDS_NEEDING_PRODUCT = (TransactionKind.BUY, TransactionKind.REDEEM, TransactionKind.SELL)


class Product(models.Model):
    """A product the institution sells, with its risk level R1–R5 (suitability compares it)."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120, validators=[refuse_control_characters])
    type = models.CharField(_("type"), max_length=16, choices=ProductType)
    risk_level = models.PositiveSmallIntegerField(
        _("risk level"), validators=[MinValueValidator(1), MaxValueValidator(5)], default=1)
    term_days = models.PositiveIntegerField(_("term (days)"), null=True, blank=True)
    min_amount = models.DecimalField(_("minimum amount"), max_digits=16, decimal_places=2, null=True, blank=True)
    launch_date = models.DateField(_("launch date"), null=True, blank=True)
    maturity_date = models.DateField(_("maturity date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=ProductStatus, default=ProductStatus.ON_SALE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=models.Q(risk_level__gte=1, risk_level__lte=5), name="product_risk_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def risk_label(self) -> str:
        return f"R{self.risk_level}"


class Holding(models.Model):
    """One position in a snapshot: what a customer held of a product on a day.

    A customer's current holdings are the rows of their latest snapshot day; a snapshot lists all
    of that customer's positions (a product sold out is written with amount 0 or left out)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="holdings", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="holdings")
    as_of = models.DateField(_("as of"))
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)

    class Meta:
        verbose_name = _("holding")
        verbose_name_plural = _("holdings")
        constraints = [models.UniqueConstraint(fields=["customer", "product", "as_of"], name="holding_once_per_day")]
        indexes = [models.Index(fields=["customer", "as_of"], name="holding_customer_day_idx")]


class Transaction(models.Model):
    """A buy, redemption, sale, deposit, withdrawal or trade, once per external id."""

    external_id = models.CharField(_("external id"), max_length=64)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="transactions", db_index=False)
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="transactions", null=True, blank=True,
                                db_index=False)
    kind = models.CharField(_("kind"), max_length=16, choices=TransactionKind)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    occurred_at = models.DateTimeField(_("occurred at"))
    # The calendar day in TIME_ZONE, written once by the ingestion engine: windows ("30 days") and
    # attribution count days as the bank's staff do, and SQL never has to convert time zones.
    occurred_on = models.DateField(_("day"))
    channel = models.CharField(_("channel"), max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        # Every index here is paid for by every imported row, and an index that outgrows the database's
        # buffers costs a random page per row (docs/benchmarks.md). So: the external id's uniqueness as a
        # constraint (unique=True adds a second, LIKE-only copy of it on PostgreSQL: 1 GB at 20M rows);
        # the customer alone (the customer page reads all of a customer's rows; B-tree deduplication
        # makes it a quarter the size of (customer, day)); no index on the day alone (the one full read by
        # day, the audience index's cold start, is a sequential scan either way).
        constraints = [models.UniqueConstraint(fields=["external_id"], name="transaction_external_id_unique")]
        indexes = [
            models.Index(fields=["customer"], name="transaction_customer_idx"),
            models.Index(fields=["product", "kind", "occurred_on"], name="transaction_product_idx"),
        ]


class Event(models.Model):
    """Something a customer did (a login, a failed account opening, a product page view)."""

    external_id = models.CharField(_("external id"), max_length=64)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events", db_index=False)
    type = models.CharField(_("type"), max_length=64)
    occurred_at = models.DateTimeField(_("occurred at"))
    occurred_on = models.DateField(_("day"))
    properties = models.JSONField(_("properties"), default=dict, blank=True, validators=[refuse_unstorable_json])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [models.UniqueConstraint(fields=["external_id"], name="event_external_id_unique")]  # as above
        indexes = [
            models.Index(fields=["customer"], name="event_customer_idx"),
            models.Index(fields=["type", "occurred_on"], name="event_type_day_idx"),
        ]


class DormancyGoal(models.Model):
    """The share of dormant customers the team aims at (the latest row is the goal; earlier ones are its
    history). Dormant: on file for `dormant_days` and no transaction in the last `dormant_days`."""

    dormant_days = models.PositiveSmallIntegerField(_("dormant after (days)"), default=180,
                                                    validators=[MinValueValidator(30), MaxValueValidator(730)])
    target_share = models.DecimalField(_("target share"), max_digits=5, decimal_places=4,
                                       validators=[MinValueValidator(0), MaxValueValidator(1)],
                                       help_text=_("e.g. 0.20 for 20 %."))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                           related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]


class DormancySnapshot(models.Model):
    """How many customers were dormant at the end of a day (recorded nightly; weeks before the first
    recording are computed from the transactions)."""

    day = models.DateField(_("day"))
    dormant_days = models.PositiveSmallIntegerField()
    customers = models.PositiveIntegerField()
    dormant = models.PositiveIntegerField()
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["day", "dormant_days"], name="dormancy_snapshot_unique")]

    @property
    def share(self) -> float | None:
        return self.dormant / self.customers if self.customers else None
