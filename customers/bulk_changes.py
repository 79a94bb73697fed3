"""Bulk actions on customers that cannot wreck a book: planned and shown before they run, refused
across branches unless confirmed, recorded customer by customer, and undone from that record.

(Ticking "all matching the filter" with no filter and assigning everyone to Bob moved all 45,212
demo customers in one click, and nothing said who had owned them.)"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BigIntegerField, Count, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.bulk import insert_from_select

from . import services
from .models import BulkChange, BulkChangeRow, Customer, CustomerTag, Tag

Action = BulkChange.Action


@dataclass
class BulkPlan:
    """What a bulk action would change, in numbers a person checks before saying yes."""

    action: str
    selected: int  # customers selected
    count: int  # of them, customers it would change
    summary: str
    from_owners: list[tuple[str, int]] = field(default_factory=list)  # (current owner, customers), largest first
    outside_branch: int = 0  # customers in another branch than the new owner's


def plan_bulk_change(*, action: str, customers: QuerySet[Customer], tag: Tag | None = None, owner=None) -> BulkPlan:
    customers = customers.order_by()
    selected = customers.count()
    changed = _changed(action, customers, tag, owner)
    count = changed.count()
    if action == Action.ASSIGN_OWNER:
        by_owner = list(changed.values("owner__username").annotate(n=Count("pk")).order_by("-n"))
        from_owners = [(row["owner__username"] or _("nobody"), row["n"]) for row in by_owner]
        # A customer with no branch takes the owner's; one in another branch moves only when confirmed.
        outside = (changed.exclude(branch_id=owner.branch_id).exclude(branch_id=None).count()
                   if owner.branch_id else 0)
        managers = ngettext("%(n)d manager", "%(n)d managers", len(from_owners)) % {"n": len(from_owners)}
        summary = ngettext("%(count)s customer from %(managers)s to %(owner)s",
                           "%(count)s customers from %(managers)s to %(owner)s", count) % {
            "count": f"{count:,}", "managers": managers, "owner": owner.get_full_name() or owner.username}
        return BulkPlan(action, selected, count, summary, from_owners, outside)
    template = (ngettext("Add tag %(tag)s to %(count)s customer", "Add tag %(tag)s to %(count)s customers", count)
                if action == Action.ADD_TAG else
                ngettext("Remove tag %(tag)s from %(count)s customer", "Remove tag %(tag)s from %(count)s customers",
                         count))
    return BulkPlan(action, selected, count, template % {"tag": tag.slug, "count": f"{count:,}"})


def _changed(action: str, customers: QuerySet[Customer], tag: Tag | None, owner) -> QuerySet[Customer]:
    """The selected customers the action would change (the others already are as it would make them)."""
    if action == Action.ASSIGN_OWNER:
        return customers.exclude(owner=owner)
    holds = Q(pk__in=CustomerTag.objects.filter(tag=tag).values("customer_id"))
    return customers.exclude(holds) if action == Action.ADD_TAG else customers.filter(holds)


@transaction.atomic
def apply_bulk_change(*, action: str, customers: QuerySet[Customer], by, tag: Tag | None = None, owner=None,
                      other_branches_confirmed: bool = False) -> BulkChange:
    """Run a planned bulk action and record it, customer by customer (what each had before)."""
    if tag is not None:
        Tag.objects.select_for_update().filter(pk=tag.pk).first()  # in turn with other writers of this tag
    plan = plan_bulk_change(action=action, customers=customers, tag=tag, owner=owner)
    if action == Action.ASSIGN_OWNER and plan.outside_branch and not other_branches_confirmed:
        raise ValidationError(ngettext(
            "%(count)d customer is in another branch than %(owner)s's; confirm moving them to that branch.",
            "%(count)d customers are in another branch than %(owner)s's; confirm moving them to that branch.",
            plan.outside_branch) % {"count": plan.outside_branch, "owner": owner.username})
    change = BulkChange.objects.create(action=action, tag=tag, tag_slug=tag.slug if tag else "", owner=owner,
                                       summary=plan.summary[:300], by=by)
    changed = Customer.objects.filter(pk__in=_changed(action, customers.order_by(), tag, owner).values("pk"))
    recorded = insert_from_select(
        BulkChangeRow, ["change_id", "customer_id", "previous_owner_id", "previous_branch_id"],
        changed.annotate(_change=Value(change.pk, output_field=BigIntegerField())).values_list(
            "_change", "pk", "owner_id", "branch_id"))
    rows = Customer.objects.filter(pk__in=BulkChangeRow.objects.filter(change=change).values("customer_id"))
    if action == Action.ASSIGN_OWNER:
        services.assign_owner(customers=rows, owner=owner, by=by)
    elif action == Action.ADD_TAG:
        services.add_tag(tag=tag, customers=rows, by=by)
    else:
        services.remove_tag(tag=tag, customers=rows, by=by)
    change.count = recorded
    change.save(update_fields=["count"])
    return change


@transaction.atomic
def undo_bulk_change(*, change: BulkChange, by, customers: QuerySet[Customer]) -> int:
    """Put back what the change changed, for the customers `by` may see (`customers`): previous owners
    and branches of customers still with the owner it gave them, or the tag taken off / put back.
    Returns how many customers were restored; a later change to a customer is never overwritten."""
    change = BulkChange.objects.select_for_update().get(pk=change.pk)
    if change.undone_at is not None:
        raise ValidationError(_("This change was already undone."))
    rows = BulkChangeRow.objects.filter(change=change, customer_id__in=customers.order_by().values("pk"))
    targets = Customer.objects.filter(pk__in=rows.values("customer_id"))
    if change.action == Action.ASSIGN_OWNER:
        previous = rows.filter(customer_id=OuterRef("pk"))
        restored = targets.filter(owner_id=change.owner_id).update(
            owner_id=Subquery(previous.values("previous_owner_id")[:1]),
            branch_id=Subquery(previous.values("previous_branch_id")[:1]), updated_at=Now())
    else:
        if change.tag is None:
            raise ValidationError(_("The tag %(tag)s was deleted since; this change cannot be undone.")
                                  % {"tag": change.tag_slug})
        if change.action == Action.ADD_TAG:
            restored = services.remove_tag(tag=change.tag, customers=targets, by=by)
        else:
            restored = services.add_tag(tag=change.tag, customers=targets, by=by)
    change.undone_at, change.undone_by = timezone.now(), by
    change.save(update_fields=["undone_at", "undone_by"])
    return restored


def bulk_changes_visible_to(user, *, manager: bool) -> QuerySet[BulkChange]:
    """Managers see every bulk change; an account manager her own."""
    changes = BulkChange.objects.select_related("by", "owner", "undone_by")
    return changes if manager else changes.filter(by=user)


