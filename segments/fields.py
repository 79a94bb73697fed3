"""The customer attributes an expression may compare, and how each value is checked."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from customers.models import Gender, LifecycleStage

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
            if self.kind == "number":
                return float(number)
            if number != number.to_integral_value():
                raise problem(_("%(field)s must be a whole number (got %(value)r)."))
            return int(number)
        if self.kind == "date":
            if isinstance(value, datetime):
                return value.date()
            if isinstance(value, date):
                return value
            try:
                return date.fromisoformat(str(value))
            except ValueError as error:
                raise problem(_("%(field)s needs a date like 2026-01-31 (got %(value)r).")) from error
        text = str(value)
        if self.kind == "choice" and text not in self.choices:
            raise problem(_("%(field)s must be one of %(choices)s (got %(value)r)."))
        return text


FIELDS: dict[str, Field] = {field.name: field for field in [
    Field("assets", _("Assets"), "number"),
    Field("risk_level", _("Risk level"), "integer", nullable=True),
    Field("lifecycle_stage", _("Lifecycle stage"), "choice", tuple(LifecycleStage.values)),
    Field("branch", _("Branch"), "reference", nullable=True),
    Field("gender", _("Gender"), "choice", tuple(Gender.values)),
    Field("age", _("Age"), "integer", nullable=True),
    Field("owner", _("Account manager"), "reference", nullable=True),
    Field("created_at", _("Created"), "date"),
]}
