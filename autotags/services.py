"""Writes for auto-tag rules: preview, save, apply (one rule or all), delete."""

import time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from pyroaring import BitMap

from core.services import enqueue
from customers.models import CustomerTag, Tag
from customers.services import create_tag, set_tag_holders, tag_slug
from segments.compiler import read_expression, resolve
from segments.engine import evaluate
from segments.expression import tags_in, to_text

from .models import RuleApplication, TagRule


def _audience(text: str, *, own_slug: str | None):
    tree, positions = read_expression(text=text)
    if own_slug and own_slug in tags_in(tree):
        raise ValidationError({"text": _("A rule cannot name its own tag (%(tag)s).") % {"tag": own_slug}})
    return tree, evaluate(resolve(tree, positions)).bitmap


def preview_rule(*, text: str, slug: str) -> dict:
    """Who would hold the tag if the rule were saved now: members, and how many enter and leave."""
    tree, members = _audience(text, own_slug=slug)
    tag = Tag.objects.filter(slug=slug).first()
    holders = BitMap(CustomerTag.objects.filter(tag=tag).values_list("customer_id", flat=True)) if tag else BitMap()
    return {"text": to_text(tree), "members": len(members), "entering": len(members - holders),
            "leaving": len(holders - members)}


@transaction.atomic
def save_rule(*, name: str, text: str, by, slug: str | None = None, rule: TagRule | None = None,
              active: bool = True) -> TagRule:
    """Create (with its new tag) or change a rule; it is applied once the change commits."""
    if not name.strip():
        raise ValidationError({"name": _("Give the rule a name.")})
    if rule is None:
        slug = slug or ""
        if tag_slug(slug) != slug or not slug:
            raise ValidationError({"slug": _("Use lower-case letters, digits, hyphens and underscores.")})
        if Tag.objects.filter(slug=slug).exists():
            raise ValidationError({"slug": _("A tag with this slug exists; a rule makes a tag of its own.")})
    tree, _members = _audience(text, own_slug=slug or rule.tag.slug)
    if rule is None:
        tag = create_tag(slug=slug, name=name, source=Tag.Source.RULE, category=Tag.Category.BEHAVIOUR,
                         description=_("Maintained by the auto-tag rule “%(name)s”.") % {"name": name})
        rule = TagRule(tag=tag, created_by=by)
    rule.name, rule.expression, rule.text, rule.active = name.strip(), tree, to_text(tree), active
    rule.full_clean()
    rule.save()
    if active:
        transaction.on_commit(lambda: enqueue("autotags.jobs.apply_rule", rule.pk, RuleApplication.Reason.SAVED))
    return rule


def apply_rule(*, rule: TagRule, reason: str) -> RuleApplication:
    """Make the tag's holders exactly the rule's audience now; the changes go into the tag history."""
    started = time.perf_counter()
    _tree, members = _audience(rule.text, own_slug=rule.tag.slug)
    with transaction.atomic():
        entered, left = set_tag_holders(tag=rule.tag, customer_ids=set(members), source=Tag.Source.RULE)
        return RuleApplication.objects.create(rule=rule, reason=reason, entered=entered, left=left,
                                              members=len(members),
                                              took_ms=round((time.perf_counter() - started) * 1000, 2))


def apply_rules(*, reason: str) -> list[RuleApplication]:
    """Every active rule, in name order (a rule may name another rule's tag: that one is applied first
    when its name sorts first; the next application settles the rest)."""
    return [apply_rule(rule=rule, reason=reason) for rule in TagRule.objects.filter(active=True).select_related("tag")]


@transaction.atomic
def delete_rule(*, rule: TagRule) -> Tag:
    """The rule goes; its tag stays with its holders and becomes an ordinary tag (editable by hand)."""
    tag = rule.tag
    rule.delete()
    Tag.objects.filter(pk=tag.pk).update(source=Tag.Source.MANUAL)
    tag.refresh_from_db()
    return tag
