"""Holdings written the way the product writes them (rows in activity_holding; the change feed
tells the audience index), for the recommendation tests."""

from datetime import date, timedelta

from activity.models import Holding
from tests.factories import CustomerFactory, ProductFactory


def hold(customer, *codes: str, day: date | None = None, amount: int = 1000) -> None:
    """One snapshot for this customer listing these products."""
    day = day or date.today() - timedelta(days=1)
    Holding.objects.bulk_create([Holding(customer=customer, product=ProductFactory(code=code), as_of=day, amount=amount)
                                 for code in codes])


def book(groups: list[tuple[int, tuple[str, ...]]], **customer) -> list:
    """`count` customers holding each group of products; returns them all."""
    made = []
    for count, codes in groups:
        for _ in range(count):
            person = CustomerFactory(**customer)
            hold(person, *codes)
            made.append(person)
    return made
