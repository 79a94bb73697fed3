from customers.models import Tag, TagChange

from .models import RuleApplication, TagRule


def rules_with_last_application():
    rules = list(TagRule.objects.select_related("tag").order_by("name"))
    latest = {}
    for application in RuleApplication.objects.filter(rule__in=rules).order_by("rule_id", "-at", "-id"):
        latest.setdefault(application.rule_id, application)
    return [(rule, latest.get(rule.pk)) for rule in rules]


def rule_history(rule: TagRule, limit: int = 50) -> dict:
    """The rule's applications, and the latest customers who entered or left its tag."""
    return {
        "applications": list(rule.applications.all()[:20]),
        "changes": list(TagChange.objects.filter(tag_slug=rule.tag.slug, source=Tag.Source.RULE)
                        .select_related("customer").order_by("-at", "-id")[:limit]),
    }
