"""A random customer base for the segment tests: tags, attributes and NULLs, from a seed."""

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from customers.models import Customer, CustomerTag, Tag
from tests.factories import BranchFactory, UserFactory
from tests.segments.strategies import BRANCHES, STAGES, TAGS


def make_customers(seed: int, size: int) -> list[dict]:
    """Create customers with random data; returns plain records for an independent evaluation."""
    rng = random.Random(seed)
    branches = {code: BranchFactory(code=code) for code in BRANCHES}
    owners = {name: UserFactory(username=name, role="account_manager") for name in ("alice", "bob")}
    tags = {slug: Tag.objects.get_or_create(slug=slug, defaults={"name": slug})[0] for slug in TAGS}
    popularity = {slug: rng.uniform(0.05, 0.7) for slug in TAGS}
    zone = ZoneInfo(settings.TIME_ZONE)
    records, links = [], []
    customers = []
    for number in range(size):
        customers.append(Customer(
            external_id=f"R{seed}-{number}",
            assets=Decimal(rng.choice([0, 1_000, 50_000, 99_999, 100_000, 500_000, 1_000_000, 2_500_000])),
            risk_level=rng.choice([None, 1, 2, 3, 4, 5]),
            lifecycle_stage=rng.choice(STAGES),
            branch=rng.choice([None, *branches.values()]),
            owner=rng.choice([None, *owners.values()]),
            gender=rng.choice(["F", "M", "U"]),
            birth_date=rng.choice([None, date(1940, 1, 1) + timedelta(days=rng.randint(0, 30_000))]),
        ))
    created = Customer.objects.bulk_create(customers)
    for customer in created:
        chosen = {slug for slug in TAGS if rng.random() < popularity[slug]}
        links += [CustomerTag(customer=customer, tag=tags[slug]) for slug in chosen]
        made = datetime(2019, 1, 1, tzinfo=zone) + timedelta(seconds=rng.randint(0, 12 * 365 * 86400))
        if rng.random() < 0.1:  # right at a day boundary, where off-by-one errors live
            made = datetime(2024, 6, 30, tzinfo=zone) + timedelta(seconds=rng.choice([-1, 0, 1, 86399, 86400]))
        Customer.objects.filter(pk=customer.pk).update(created_at=made)
        records.append({
            "id": customer.pk, "tags": chosen, "assets": customer.assets, "risk_level": customer.risk_level,
            "lifecycle_stage": customer.lifecycle_stage, "branch": customer.branch.code if customer.branch else None,
            "owner": customer.owner.username if customer.owner else None, "gender": customer.gender,
            "birth_date": customer.birth_date, "created_day": made.astimezone(zone).date(),
        })
    CustomerTag.objects.bulk_create(links)
    return records


@pytest.fixture
def random_customers(db):
    return make_customers(seed=7, size=400)
