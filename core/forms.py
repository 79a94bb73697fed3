"""Form helpers shared by the apps' pages."""

from django.core.exceptions import ValidationError


def add_service_errors(form, error: ValidationError, field_of=None) -> None:
    """A service's ValidationError shown on the form: each message on its field, or on the form as a whole
    when the form has no such field. `field_of` maps a service field to a form field where they differ."""
    field_of = field_of or (lambda field: field if field in form.fields else None)
    for field, problems in getattr(error, "message_dict", {"__all__": error.messages}).items():
        form.add_error(field_of(field), problems)
