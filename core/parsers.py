"""The API's JSON parser: DRF's, with a bound on nesting that answers 400 instead of a crash."""

import json

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No body the API takes nests deeper than a segment expression (32 levels) plus its envelope;
# Python's own limit (~1,000) ends in a RecursionError, which used to be a 500.
MAX_DEPTH = 64


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as error:
            raise ParseError(_("The body is not valid %(encoding)s text (byte %(position)d).")
                             % {"encoding": encoding, "position": error.start + 1}) from error
        depth = nesting_depth(text)
        if depth > MAX_DEPTH:
            raise ParseError(_("The JSON nests %(depth)d levels deep; at most %(limit)d are accepted.")
                             % {"depth": depth, "limit": MAX_DEPTH})
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except ValueError as error:
            raise ParseError(_("JSON parse error: %(error)s") % {"error": error}) from error


def nesting_depth(text: str) -> int:
    """How deep the brackets of a JSON text nest (brackets inside strings do not count)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return 0  # cannot nest too deep: skip the scan (almost every body)
    depth = deepest = 0
    in_string = escaped = False
    for character in text:
        if in_string:
            if escaped:
                escaped = False
            elif character == "\\":
                escaped = True
            elif character == '"':
                in_string = False
        elif character == '"':
            in_string = True
        elif character in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        elif character in "]}":
            depth -= 1
    return deepest


def _refuse_constant(name: str):
    # NaN and Infinity are not JSON (RFC 8259); Python accepts them, and they reached the database.
    raise ValueError(_("%(name)s is not a JSON number") % {"name": name})
