"""Writes for customers and tags: one function per use case, each in a transaction.

Nothing here has to record which customers changed: database triggers write the change feed
(customers.changes) for every write, whoever makes it.
"""


from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BigIntegerField, Exists, F, OuterRef, QuerySet, Value
from django.db.models.functions import Now
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core.bulk import insert_from_select

from . import tag_references
from .models import Customer, CustomerTag, Tag, TagChange


def tag_slug(text: str) -> str:
    """The slug expressions use for a tag: lower-case ASCII letters, digits, hyphens and underscores
    (the expression language names `app_user`; imports, forms and the API accept it alike)."""
    return slugify(str(text).replace(".", "-"))


@transaction.atomic
def create_tag(*, slug: str, name: str = "", category: str = Tag.Category.OTHER,
               source: str = Tag.Source.MANUAL, description: str = "") -> Tag:
    """Create a tag; the slug must be new and expression-safe."""
    clean = tag_slug(slug)
    if not clean or clean != slug:
        raise ValidationError({"slug": _("Use lower-case letters, digits, hyphens and underscores, e.g. %(example)s.")
                               % {"example": clean or "vip-client"}})
    if Tag.objects.filter(slug=clean).exists():
        raise ValidationError({"slug": _("A tag with this slug already exists.")})
    tag = Tag(slug=clean, name=name or clean, category=category, source=source, description=description)
    tag.full_clean()
    tag.save()
    return tag


@transaction.atomic
def update_tag(*, tag: Tag, name: str, category: str, description: str = "", slug: str | None = None) -> Tag:
    """Rename a tag (display name and slug); saved segments and draft campaigns naming the old slug
    are rewritten to the new one in the same transaction."""
    old_slug = tag.slug
    if slug is not None and slug != tag.slug:
        if tag_slug(slug) != slug or not slug:
            raise ValidationError({"slug": _("Use lower-case letters, digits, hyphens and underscores.")})
        if Tag.objects.filter(slug=slug).exclude(pk=tag.pk).exists():
            raise ValidationError({"slug": _("A tag with this slug already exists.")})
        tag.slug = slug
    tag.name, tag.category, tag.description = name, category, description
    tag.full_clean()
    tag.save()
    tag_references.rename_references({old_slug: tag.slug})
    return tag


def refuse_rule_tag(tag: Tag) -> None:
    """Tags an auto-tag rule maintains change only through their rule (autotags): every writer by
    hand — the customer page, bulk actions, the API, merges, deletes, imports — asks here."""
    if tag.source == Tag.Source.RULE:
        raise ValidationError({"tag": _("A rule maintains %(tag)s: change the rule instead of the customers.")
                               % {"tag": tag.slug}})


@transaction.atomic
def add_tag(*, tag: Tag, customers: QuerySet, by=None, source: str = Tag.Source.MANUAL) -> int:
    """Put a tag on every customer in the queryset that lacks it; returns how many gained it.

    Adds of one tag take turns (the tag's row lock): a second one at the same moment — a double
    click, two bulk actions — then sees the first one's links, adds only the rest and records only
    those (it was an IntegrityError)."""
    refuse_rule_tag(tag)
    Tag.objects.select_for_update().filter(pk=tag.pk).first()
    lacking = customers.order_by().filter(
        ~Exists(CustomerTag.objects.filter(customer=OuterRef("pk"), tag=tag))
    )
    rows = lacking.annotate(
        _customer=F("pk"), _tag=Value(tag.pk), _source=Value(source),
        _by=Value(by.pk if by else None, output_field=BigIntegerField()), _at=Now(),
    ).values_list("_customer", "_tag", "_source", "_by", "_at")
    if by is not None:
        insert_from_select(
            TagChange, ["customer_id", "tag_slug", "action", "source", "by_id", "at"],
            lacking.annotate(_customer=F("pk"), _slug=Value(tag.slug), _action=Value(TagChange.Action.ADDED),
                             _source=Value(source), _by=Value(by.pk), _at=Now())
            .values_list("_customer", "_slug", "_action", "_source", "_by", "_at"),
        )
    return insert_from_select(CustomerTag, ["customer_id", "tag_id", "source", "added_by_id", "added_at"], rows,
                              skip_existing=True)


@transaction.atomic
def remove_tag(*, tag: Tag, customers: QuerySet, by=None) -> int:
    """Take a tag off every customer in the queryset; returns how many lost it (in turn with adds)."""
    refuse_rule_tag(tag)
    Tag.objects.select_for_update().filter(pk=tag.pk).first()
    links = CustomerTag.objects.filter(tag=tag, customer__in=customers.order_by().values("pk"))
    if by is not None:
        insert_from_select(
            TagChange, ["customer_id", "tag_slug", "action", "source", "by_id", "at"],
            links.annotate(_customer=F("customer_id"), _slug=Value(tag.slug),
                           _action=Value(TagChange.Action.REMOVED), _source=Value(Tag.Source.MANUAL),
                           _by=Value(by.pk), _at=Now())
            .values_list("_customer", "_slug", "_action", "_source", "_by", "_at"),
        )
    removed, _ = links.delete()
    return removed


@transaction.atomic
def merge_tags(*, sources: list[Tag], target: Tag, by=None) -> int:
    """Move every customer of the source tags onto the target, then delete the sources; saved
    segments and draft campaigns naming a source name the target instead. Every change is in the
    customers' tag history."""
    sources = [tag for tag in sources if tag.pk != target.pk]
    for tag in [*sources, target]:
        refuse_rule_tag(tag)
    if not sources:
        raise ValidationError({"sources": _("Choose at least one tag other than the target.")})
    holders = Customer.objects.filter(tag_links__tag__in=sources).distinct()
    moved = add_tag(tag=target, customers=Customer.objects.filter(pk__in=holders.values("pk")),
                    by=by, source=Tag.Source.MANUAL)
    for tag in sources:
        _record_removal_of_every_link(tag, by)
    Tag.objects.filter(pk__in=[tag.pk for tag in sources]).delete()
    tag_references.rename_references({tag.slug: target.slug for tag in sources})
    return moved


@transaction.atomic
def delete_tag(*, tag: Tag, by=None) -> int:
    """Delete a tag and its links; returns how many customers carried it. Refused while a saved
    segment or a draft campaign names it (the message lists them): they would stop working."""
    refuse_rule_tag(tag)
    users = tag_references.references_to({tag.slug})
    if users:
        raise ValidationError({"slug": _("%(tag)s is used by %(users)s. Change or delete those first, or merge "
                                         "this tag into another (which rewrites them).") % {
            "tag": tag.slug, "users": ", ".join(f"{reference.kind} “{reference.name}”" for reference in users[:10])
            + (_(" and %(n)d more") % {"n": len(users) - 10} if len(users) > 10 else "")}})
    carried = tag.customer_links.count()
    _record_removal_of_every_link(tag, by)
    tag.delete()
    return carried


def _record_removal_of_every_link(tag: Tag, by) -> None:
    insert_from_select(
        TagChange, ["customer_id", "tag_slug", "action", "source", "by_id", "at"],
        CustomerTag.objects.filter(tag=tag).annotate(
            _customer=F("customer_id"), _slug=Value(tag.slug), _action=Value(TagChange.Action.REMOVED),
            _source=Value(Tag.Source.MANUAL), _by=Value(by.pk if by else None, output_field=BigIntegerField()),
            _at=Now()).values_list("_customer", "_slug", "_action", "_source", "_by", "_at"),
    )


@transaction.atomic
def assign_owner(*, customers: QuerySet, owner, by=None) -> int:
    """Give the customers to one account manager (and that manager's branch, if set)."""
    fields = {"owner": owner}
    if owner is not None and owner.branch_id:
        fields["branch_id"] = owner.branch_id
    targets = Customer.objects.filter(pk__in=customers.order_by().values("pk"))
    return targets.update(**fields, updated_at=Now())


CUSTOMER_EDITABLE_FIELDS = (
    "name", "phone", "email", "gender", "birth_date", "branch", "owner", "assets", "risk_level",
    "lifecycle_stage", "do_not_contact", "opted_out_channels", "extra",
)


@transaction.atomic
def save_customer(*, customer: Customer, by=None, **changes) -> Customer:
    """Create or update one customer after model validation; unknown fields are refused."""
    unknown = set(changes) - set(CUSTOMER_EDITABLE_FIELDS) - {"external_id"}
    if unknown:
        raise ValidationError({field: _("This field cannot be changed.") for field in unknown})
    if customer.pk and "external_id" in changes and changes["external_id"] != customer.external_id:
        raise ValidationError({"external_id": _("The external id of a customer cannot change.")})
    for field, value in changes.items():
        setattr(customer, field, value)
    customer.full_clean()
    customer.save()
    return customer


@transaction.atomic
def set_tag_holders(*, tag: Tag, customer_ids: set[int], source: str) -> tuple[int, int]:
    """Make exactly these customers hold the tag (for tags a job derives); returns (added, removed).
    Each change is in the customers' tag history."""
    holders = set(CustomerTag.objects.filter(tag=tag).values_list("customer_id", flat=True))
    stale = sorted(holders - customer_ids)
    for start in range(0, len(stale), 10_000):  # SQLite limits the parameters of one statement
        CustomerTag.objects.filter(tag=tag, customer_id__in=stale[start:start + 10_000]).delete()
    new = sorted(customer_ids - holders)
    CustomerTag.objects.bulk_create([CustomerTag(customer_id=pk, tag=tag, source=source) for pk in new],
                                    batch_size=5000, ignore_conflicts=True)
    TagChange.objects.bulk_create(
        [TagChange(customer_id=pk, tag_slug=tag.slug, action=TagChange.Action.ADDED, source=source) for pk in new]
        + [TagChange(customer_id=pk, tag_slug=tag.slug, action=TagChange.Action.REMOVED, source=source)
           for pk in stale], batch_size=5000)
    return len(new), len(stale)

