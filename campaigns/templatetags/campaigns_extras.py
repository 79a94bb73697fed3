"""Template helpers for the campaign pages."""

from django import template
from django.utils.translation import gettext as _

from campaigns.models import FailureReason
from customers.models import Channel

register = template.Library()


@register.filter
def fields_named(form, names: str):
    """The bound fields of `form` listed in `names` (space-separated), in that order."""
    return [form[name] for name in names.split() if name in form.fields]


@register.filter
def percent(value, digits: int = 2):
    """A fraction as a percentage (0.117 → 11.70 %); a dash when there is no rate yet."""
    if value is None:
        return "—"
    return f"{value * 100:.{int(digits)}f} %"


@register.filter
def get(mapping, key):
    """mapping[key] in a template (for rows whose column name is a variable)."""
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def channel_label(code: str) -> str:
    """A channel's label; a channel only a history file named (e.g. "cellular") stays as written."""
    if not code:
        return _("not recorded")
    return str(Channel(code).label) if code in Channel.values else code


@register.filter
def reason_label(code: str) -> str:
    """A failure reason as people read it ("Price / fees"); a code no longer listed stays as written."""
    if not code:
        return _("not given")
    reason = FailureReason.objects.filter(code=code).first()
    return str(reason) if reason else code
