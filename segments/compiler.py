"""Resolving an expression's names against the database: tag slugs, branch codes and usernames
become ids, and anything unknown is an ExpressionError the user can fix."""

import difflib

from django.utils.translation import gettext as _

from accounts.models import Branch, User
from activity.models import Event, Product
from customers.models import Tag

from .expression import ExpressionError, activities_in, fields_in, from_json, parse_with_positions, tags_in

REFERENCES = {"branch": (Branch, "code"), "owner": (User, "username")}


def read_expression(*, expression=None, text: str | None = None) -> tuple[dict, dict]:
    """The normalised tree from either form, and the tag positions (text form only)."""
    if expression is not None and text not in (None, ""):
        raise ExpressionError(_("Give either an expression or a text, not both."))
    if expression is not None:
        return from_json(expression), {}
    if text is None:
        raise ExpressionError(_("Give an expression (JSON) or a text."))
    return parse_with_positions(text)


def checked_expression(*, expression=None, text: str | None = None) -> dict:
    """The normalised tree, once every tag, branch and user it names is known to exist."""
    tree, positions = read_expression(expression=expression, text=text)
    resolve(tree, positions)
    return tree


def resolve(tree: dict, tag_positions: dict[str, int] | None = None) -> dict:
    """The tree with ids in place of names; unknown names raise ExpressionError."""
    slugs = tags_in(tree)
    tag_ids = dict(Tag.objects.filter(slug__in=slugs).values_list("slug", "id"))
    unknown = sorted(slugs - set(tag_ids))
    if unknown:
        positions = [tag_positions[slug] for slug in unknown if tag_positions and slug in tag_positions]
        suggestions = similar_tags(unknown)
        message = _("Unknown tag: %(tags)s.") % {"tags": ", ".join(unknown)}
        if suggestions:
            message += " " + _("Did you mean %(tags)s?") % {"tags": ", ".join(
                dict.fromkeys(slug for found in suggestions.values() for slug in found))}
        raise ExpressionError(message, position=min(positions) if positions else None,
                              details={"unknown_tags": unknown, "suggestions": suggestions})
    lookups = {}
    for name, (model, key) in REFERENCES.items():
        wanted = set()
        for node in fields_in(tree):
            if node["field"] == name and node["op"] != "isnull":
                wanted.update(node["value"] if isinstance(node["value"], list) else [node["value"]])
        found = dict(model.objects.filter(**{f"{key}__in": wanted}).values_list(key, "id")) if wanted else {}
        missing = sorted(wanted - set(found))
        if missing:
            raise ExpressionError(_("Unknown %(field)s: %(values)s.") % {"field": name, "values": ", ".join(missing)})
        lookups[name] = found
    lookups["product"] = _product_ids(tree, tag_positions or {})
    return _resolve(tree, tag_ids, lookups)


def _product_ids(tree: dict, positions: dict[str, int]) -> dict[str, int]:
    """Ids of the products the behaviour conditions name; an unknown product or a never-seen event
    type is an error (a typo would otherwise select nobody, silently)."""
    activities = activities_in(tree)
    codes = {node["product"] for node in activities if "product" in node}
    found = dict(Product.objects.filter(code__in=codes).values_list("code", "id")) if codes else {}
    missing = sorted(codes - set(found))
    if missing:
        known = list(Product.objects.values_list("code", flat=True)[:5000])
        close = [match for code in missing for match in difflib.get_close_matches(code, known, n=2, cutoff=0.7)]
        message = _("Unknown product: %(codes)s.") % {"codes": ", ".join(missing)}
        if close:
            message += " " + _("Did you mean %(codes)s?") % {"codes": ", ".join(dict.fromkeys(close))}
        at = [positions[f"product:{code}"] for code in missing if f"product:{code}" in positions]
        raise ExpressionError(message, position=min(at) if at else None)
    for event in sorted({node["event"] for node in activities if "event" in node}):
        if not Event.objects.filter(type=event).exists():
            raise ExpressionError(_("No event of type “%(event)s” has been recorded; check the spelling.")
                                  % {"event": event})
    return found


def similar_tags(unknown: list[str], *, limit: int = 3) -> dict[str, list[str]]:
    """For each unknown slug, the existing tags it most looks like (a typo, `-` for `_`, a missing
    prefix): "Unknown tag: wechatt. Did you mean wechat?"."""
    slugs = list(Tag.objects.values_list("slug", flat=True)[:50_000])
    found = {}
    for slug in unknown:
        close = difflib.get_close_matches(slug, slugs, n=limit, cutoff=0.75)
        close += [other for other in slugs if slug in other and other not in close][:limit - len(close)]
        if close:
            found[slug] = close
    return found


def _resolve(node: dict, tag_ids: dict, lookups: dict) -> dict:
    if "tag" in node:
        return {"tag_id": tag_ids[node["tag"]]}
    if "not" in node:
        return {"not": _resolve(node["not"], tag_ids, lookups)}
    if "activity" in node:
        resolved = dict(node)
        if "product" in resolved:
            resolved["product_id"] = lookups["product"][resolved.pop("product")]
        return resolved
    for kind in ("all", "any"):
        if kind in node:
            return {kind: [_resolve(child, tag_ids, lookups) for child in node[kind]]}
    name, op, value = node["field"], node["op"], node["value"]
    if name in lookups and op != "isnull":
        found = lookups[name]
        value = [found[item] for item in value] if isinstance(value, list) else found[value]
    return {"field": name, "op": op, "value": value}
