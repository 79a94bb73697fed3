"""Template helpers for the campaign pages."""

from django import template

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
