"""What else names a tag: saved segment and campaign expressions keep tag slugs.

Other apps register, in their AppConfig.ready(), a finder (slugs -> [TagReference]) and a renamer
({old slug: new slug} -> how many it rewrote), without this app importing them. The tag services use
them so that deleting, merging or renaming a tag never leaves a saved expression naming a tag that
is gone (issue 20: such segments' pages answered 500, and the segments API list 400 "Unknown tag").
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class TagReference:
    kind: str  # what it is, for people: "segment", "draft campaign"
    name: str
    url: str
    slugs: tuple[str, ...]  # which of the slugs asked about it names


Finder = Callable[[set[str]], list[TagReference]]
Renamer = Callable[[dict[str, str]], int]
SOURCES: list[tuple[Finder, Renamer]] = []


def register(find: Finder, rename: Renamer) -> None:
    if (find, rename) not in SOURCES:
        SOURCES.append((find, rename))


def references_to(slugs: set[str]) -> list[TagReference]:
    """Everything saved that names one of these tag slugs."""
    return [reference for find, _rename in SOURCES for reference in find(set(slugs))]


def rename_references(renames: dict[str, str]) -> int:
    """Rewrite every saved expression that names an old slug to name the new one instead."""
    renames = {old: new for old, new in renames.items() if old != new}
    return sum(rename(renames) for _find, rename in SOURCES) if renames else 0
