"""What the activity app adds to the customer page: current holdings, and transactions and events
in the timeline (registered in ActivityConfig.ready, so customers never imports this app)."""

from .models import Event, Transaction
from .selectors import current_holdings


def customer_timeline_events(customer, user, limit: int) -> list[dict]:
    """The customer's latest transactions and events (the page is already limited to visible customers)."""
    events = [{"at": item.occurred_at, "kind": "transaction", "label": item.get_kind_display(), "product": item.product,
               "amount": item.amount, "channel": item.channel, "by": None}
              for item in Transaction.objects.filter(customer=customer).select_related("product")
              .order_by("-occurred_at")[:limit]]
    events += [{"at": item.occurred_at, "kind": "event", "type": item.type, "properties": item.properties, "by": None}
               for item in Event.objects.filter(customer=customer).order_by("-occurred_at")[:limit]]
    return events


def holdings_section(customer, user) -> dict | None:
    holdings = list(current_holdings(customer))
    if not holdings:
        return None
    return {"template": "activity/_holdings.html", "holdings": holdings, "as_of": holdings[0].as_of,
            "total": sum(holding.amount for holding in holdings)}
