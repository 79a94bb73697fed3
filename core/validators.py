"""Validators every app uses for text that people type or import."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# C0 control characters except tab, newline and carriage return, and DEL: invisible, never meant,
# and illegal in the XML inside an XLSX file (one of them in a name broke every workbook showing it).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def refuse_control_characters(value) -> None:
    """A ValidationError naming the first control character and its position."""
    found = CONTROL_CHARACTERS.search(str(value or ""))
    if found:
        raise ValidationError(
            _("Remove the invisible control character U+%(code)04X at position %(position)d.")
            % {"code": ord(found.group()), "position": found.start() + 1}, code="control_character")
