"""Reading ids and page numbers from query strings and forms: anything else than a plain number a
database column can hold is treated as absent (a huge or non-ASCII "digit" string was a 500)."""

import re

PLAIN_NUMBER = re.compile(r"[0-9]{1,18}")  # below 2**63: fits every integer column we key on
MAX_PAGE = 10**9


def object_id(value) -> int | None:
    """A primary key given as text, or None when it cannot be one."""
    text = str(value or "").strip()
    return int(text) if PLAIN_NUMBER.fullmatch(text) else None


def page_number(value) -> int:
    """A 1-based page number (1 when absent or not a number)."""
    number = object_id(value)
    return min(max(number or 1, 1), MAX_PAGE)
