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


# Lone UTF-16 surrogates: JSON's \ud800 escapes decode to them, but no database can encode them.
LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def refuse_unstorable_json(value, *, path: str = "") -> None:
    """Refuse a JSON value (from a request body or an imported cell) that a database cannot keep: a control
    character — PostgreSQL's jsonb has no \\u0000 — or a lone surrogate, in any key or string at any depth.
    The message names where it is, e.g. "extra → note[2]"."""
    if isinstance(value, dict):
        for key, item in value.items():
            _refuse_unstorable_text(str(key), where=_("a key of %(path)s") % {"path": path} if path else _("a key"))
            refuse_unstorable_json(item, path=f"{path} → {key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            refuse_unstorable_json(item, path=f"{path}[{index}]")
    elif isinstance(value, str):
        _refuse_unstorable_text(value, where=path)


def _refuse_unstorable_text(text: str, *, where: str) -> None:
    found = CONTROL_CHARACTERS.search(text) or LONE_SURROGATE.search(text)
    if found:
        raise ValidationError(
            _("Remove the character U+%(code)04X at position %(position)d of %(where)s: it cannot be stored.")
            % {"code": ord(found.group()), "position": found.start() + 1, "where": where or _("the value")},
            code="unstorable_character")
