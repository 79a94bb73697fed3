"""Reads of activity. An account manager sees the activity of their own customers only."""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth

from customers.models import Customer
from customers.selectors import customers_visible_to

from .models import DormancyGoal, DormancySnapshot, Event, Holding, Product, Transaction, TransactionKind


def transactions_visible_to(user) -> QuerySet[Transaction]:
    return Transaction.objects.filter(customer__in=customers_visible_to(user)).select_related("customer", "product")


def events_visible_to(user) -> QuerySet[Event]:
    return Event.objects.filter(customer__in=customers_visible_to(user)).select_related("customer")


def current_holdings(customer) -> QuerySet[Holding]:
    """The customer's positions in their latest snapshot (amount > 0)."""
    latest = Holding.objects.filter(customer=customer).aggregate(day=Max("as_of"))["day"]
    return (Holding.objects.filter(customer=customer, as_of=latest, amount__gt=0).select_related("product")
            .order_by("-amount"))


def _current_positions(user) -> QuerySet[Holding]:
    """Every visible customer's positions in their latest snapshot."""
    latest_day = Holding.objects.filter(customer=OuterRef("customer")).order_by("-as_of").values("as_of")[:1]
    return (Holding.objects.filter(customer__in=customers_visible_to(user), amount__gt=0)
            .annotate(latest=Subquery(latest_day)).filter(as_of=F("latest")))


def holders_per_product(user) -> dict[int, int]:
    return dict(_current_positions(user).values_list("product").annotate(n=Count("customer")).values_list("product", "n"))


def product_figures(product: Product, user) -> dict:
    """Holders now (and the amount they hold), and buyers, buys and amount per month."""
    positions = _current_positions(user).filter(product=product)
    held = positions.aggregate(holders=Count("customer"), amount=Sum("amount"))
    months = list(Transaction.objects.filter(product=product, kind=TransactionKind.BUY,
                                             customer__in=customers_visible_to(user))
                  .annotate(month=TruncMonth("occurred_on")).values("month")
                  .annotate(buyers=Count("customer", distinct=True), buys=Count("id"), amount=Sum("amount"))
                  .order_by("month"))
    return {"holders": held["holders"], "held_amount": held["amount"], "months": months}


# --- dormancy (the share of customers who stopped transacting) -----------------------------------

DEFAULT_DORMANT_DAYS = 180


def dormancy_goal() -> DormancyGoal | None:
    return DormancyGoal.objects.first()


def dormant_days() -> int:
    goal = dormancy_goal()
    return goal.dormant_days if goal else DEFAULT_DORMANT_DAYS


def _end_of(day: date) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(settings.TIME_ZONE))


def dormant_counts(day: date, days: int) -> tuple[int, int]:
    """(customers at the end of `day`, those of them dormant then). A customer counts from their record's
    creation or their first transaction, whichever is earlier — a book imported today keeps its history —
    and is dormant when that was at least `days` days before and no transaction came in the `days` days up
    to `day`. Customers deleted since are not counted (the past is read from today's tables)."""
    since = day - timedelta(days=days)

    def transacted(**window):
        return Exists(Transaction.objects.filter(customer=OuterRef("pk"), **window))

    on_file = Customer.objects.filter(Q(created_at__lt=_end_of(day)) | transacted(occurred_on__lte=day))
    dormant = (on_file.filter(Q(created_at__lt=_end_of(since)) | transacted(occurred_on__lte=since))
               .exclude(transacted(occurred_on__gt=since, occurred_on__lte=day)))
    return on_file.count(), dormant.count()


def dormancy_trend(limit: int = 26) -> dict:
    """The recorded shares under the current definition, oldest first, with the goal and how far the
    latest is from it."""
    days = dormant_days()
    snapshots = list(DormancySnapshot.objects.filter(dormant_days=days).order_by("-day")[:limit])[::-1]
    goal = dormancy_goal()
    latest = snapshots[-1] if snapshots else None
    target = float(goal.target_share) if goal else None
    return {"days": days, "snapshots": snapshots, "goal": goal, "target": target, "latest": latest,
            "first": snapshots[0] if snapshots else None,
            "gap": latest.share - target if latest and latest.share is not None and target is not None else None}
