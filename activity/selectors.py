"""Reads of activity. An account manager sees the activity of their own customers only."""

from django.db.models import Count, F, Max, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth

from customers.selectors import customers_visible_to

from .models import Event, Holding, Product, Transaction, TransactionKind


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
