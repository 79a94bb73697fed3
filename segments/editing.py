"""Edits the visual builder makes to an expression tree, addressed by a path of child indexes.

Each edit returns a new normalised tree (or None when the last part was removed); the text form
is then printed from it, so the builder and the typed text always describe the same tree.
"""

from django.utils.translation import gettext as _

from .expression import ExpressionError, _negate, from_json, parse

ACTIONS = ("remove", "negate", "toggle", "add")


def parse_path(raw: str) -> list[int]:
    if not raw:
        return []
    try:
        return [int(part) for part in raw.split(".")]
    except ValueError as error:
        raise ExpressionError(_("That part of the expression no longer exists; edit the text instead.")) from error


def children(node: dict) -> list[dict]:
    if "all" in node or "any" in node:
        return node.get("all") or node["any"]
    if "not" in node:
        return [node["not"]]
    return []


def edit(tree: dict | None, path: list[int], action: str, fragment: str = "") -> dict | None:
    """Apply one builder action at `path`."""
    if action not in ACTIONS:
        raise ExpressionError(_("Unknown edit."))
    if tree is None:
        if action != "add":
            raise ExpressionError(_("The expression is empty."))
        return parse(fragment)
    new = _apply(from_json(tree), path, action, fragment)
    return None if new is None else from_json(new)


def _apply(node: dict, path: list[int], action: str, fragment: str) -> dict | None:
    if path:
        kids = children(node)
        if path[0] >= len(kids):
            raise ExpressionError(_("That part of the expression no longer exists; edit the text instead."))
        replaced = _apply(kids[path[0]], path[1:], action, fragment)
        if "not" in node:
            return None if replaced is None else {"not": replaced}
        kind = "all" if "all" in node else "any"
        rest = [child for index, child in enumerate(kids) if index != path[0]] if replaced is None else [
            replaced if index == path[0] else child for index, child in enumerate(kids)]
        return {kind: rest} if rest else None
    if action == "remove":
        return None
    if action == "negate":
        return _negate(node)
    if action == "toggle":
        if "all" in node:
            return {"any": node["all"]}
        if "any" in node:
            return {"all": node["any"]}
        raise ExpressionError(_("Only a group can switch between AND and OR."))
    added = parse(fragment)
    if "all" in node or "any" in node:
        kind = "all" if "all" in node else "any"
        return {kind: [*node[kind], added]}
    return {"all": [node, added]}
