"""The customer attributes an expression may compare, and how each value is checked."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from activity.models import ProductType
from core.validators import refuse_unstorable_json
from customers.models import Gender, LifecycleStage
from scores.models import Consultation, IntentGroup

OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "between", "isnull")
ORDERED_OPS = ("lt", "lte", "gt", "gte", "between")


class ValueProblem(ValueError):
    """A value does not fit its field; the message says what would."""


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # number | integer | choice | date | reference
    choices: tuple[str, ...] = ()
    nullable: bool = False
    # The values a comparison may name: beyond them nothing is stored, and arithmetic on them (an age
    # as a birth date, a day's end) overflowed at launch time, so they are refused when parsed.
    low: object = None
    high: object = None

    @property
    def ops(self) -> tuple[str, ...]:
        base = ("eq", "ne", "in") + (("isnull",) if self.nullable else ())
        if self.kind in ("number", "integer", "date"):
            return base + ORDERED_OPS
        return base

    def clean(self, value):
        """One scalar value, converted to the type the engine compares."""
        def problem(template: str) -> ValueProblem:
            return ValueProblem(template % {"field": self.name, "value": value, "choices": ", ".join(self.choices)})

        if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
            raise problem(_("%(field)s needs a single value, not %(value)r."))
        if self.kind in ("number", "integer"):
            try:
                number = Decimal(str(value))
            except InvalidOperation as error:
                raise problem(_("%(field)s must be a number (got %(value)r).")) from error
            if not number.is_finite():
                raise problem(_("%(field)s must be a finite number."))
            if number != number.to_integral_value() and self.kind == "integer":
                raise problem(_("%(field)s must be a whole number (got %(value)r)."))
            self.check_range(number, value)
            return float(number) if self.kind == "number" else int(number)
        if self.kind == "date":
            if isinstance(value, datetime):
                day = value.date()
            elif isinstance(value, date):
                day = value
            else:
                try:
                    day = date.fromisoformat(str(value))
                except ValueError as error:
                    raise problem(_("%(field)s needs a date like 2026-01-31 (got %(value)r).")) from error
            self.check_range(day, value)
            return day
        text = str(value)
        try:
            refuse_unstorable_json(text, path=self.name)
        except ValidationError as error:
            raise ValueProblem(error.messages[0]) from error
        if self.kind == "choice" and text not in self.choices:
            raise problem(_("%(field)s must be one of %(choices)s (got %(value)r)."))
        return text


    def check_range(self, value, given) -> None:
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ValueProblem(_("%(field)s must be between %(low)s and %(high)s (got %(value)s).") % {
                "field": self.name, "low": _shown(self.low), "high": _shown(self.high), "value": str(given)[:40]})


def _shown(bound) -> str:
    return f"{bound:,f}" if isinstance(bound, Decimal) else str(bound)


FIELDS: dict[str, Field] = {field.name: field for field in [
    # Customer.assets holds 16 digits, 2 of them decimals.
    Field("assets", _("Assets"), "number", low=-Decimal("1e14"), high=Decimal("1e14")),
    Field("risk_level", _("Risk level"), "integer", nullable=True, low=0, high=9),
    Field("lifecycle_stage", _("Lifecycle stage"), "choice", tuple(LifecycleStage.values)),
    Field("branch", _("Branch"), "reference", nullable=True),
    Field("gender", _("Gender"), "choice", tuple(Gender.values)),
    Field("age", _("Age"), "integer", nullable=True, low=0, high=150),
    Field("owner", _("Account manager"), "reference", nullable=True),
    Field("created_at", _("Created"), "date", low=date(1900, 1, 1), high=date(2999, 12, 31)),
    # Behaviour (activity app), over windows that end today in TIME_ZONE (segments.activity_index):
    Field("recency_days", _("Days since the last transaction"), "integer", nullable=True, low=0, high=100_000),
    Field("trades_30d", _("Transactions in the last 30 days"), "integer", low=0, high=10**9),
    Field("amount_30d", _("Transaction amount in the last 30 days"), "number", low=0, high=Decimal("1e16")),
    # (latest holdings total − the total 30 days ago) / the total 30 days ago: −0.3 = down 30 %
    Field("asset_change_30d", _("Change of holdings over 30 days (fraction)"), "number", nullable=True,
          low=Decimal(-1), high=Decimal("1e6")),
    # Scores of the published run (scores app; segments.score_index). Customers newer than the run have none.
    Field("churn_risk", _("Churn risk (1 − P(alive))"), "number", nullable=True, low=0, high=1),
    Field("p_alive", _("P(alive)"), "number", nullable=True, low=0, high=1),
    Field("expected_purchases_90d", _("Expected purchases in 90 days"), "number", nullable=True, low=0, high=10**6),
    Field("rfm_r", _("RFM recency score (1–5)"), "integer", nullable=True, low=1, high=5),
    Field("rfm_f", _("RFM frequency score (1–5)"), "integer", nullable=True, low=1, high=5),
    Field("rfm_m", _("RFM monetary score (1–5)"), "integer", nullable=True, low=1, high=5),
    Field("intent_score", _("Purchase intent score"), "number", nullable=True, low=0, high=Decimal("1e12")),
    Field("intent_group", _("Purchase intent group"), "choice", tuple(IntentGroup.values), nullable=True),
    Field("lifecycle", _("Lifecycle stage (scored)"), "choice", tuple(LifecycleStage.values), nullable=True),
    Field("risk_preference", _("Risk preference (0–1)"), "number", nullable=True, low=0, high=1),
    Field("consultation", _("Consultation dependency"), "choice", tuple(Consultation.values), nullable=True),
]}
# Offered in the builder's suggestions beside the tags: one comparison per kind of field.
EXAMPLES = ("assets >= 1000000", "age between 30 and 50", "recency_days > 90", "trades_30d >= 3",
            "asset_change_30d <= -0.3", "bought(type = fund, 90d)", "did(login_failed, 7d) >= 3",
            "churn_risk >= 0.7", "rfm_r >= 4", "intent_group = top", "lifecycle = declining",
            "risk_preference >= 0.6", "consultation = consultation_reliant")
ACTIVITY_FIELDS = ("recency_days", "trades_30d", "amount_30d", "asset_change_30d")
PRODUCT_TYPES = tuple(ProductType.values)
