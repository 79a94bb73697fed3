"""A small customer base for launch tests: vip customers spread over two branches and owners."""

import pytest

from customers.models import Customer, CustomerTag, Tag
from tests.factories import UserFactory


@pytest.fixture
def carol(shenzhen):
    return UserFactory(username="carol", role="account_manager", branch=shenzhen)


@pytest.fixture
def vip(db):
    return Tag.objects.create(slug="vip", name="VIP")


@pytest.fixture
def make_vips(vip):
    """make_vips(n, **fields) → n customers tagged vip (one INSERT each for customers and links)."""
    counter = {"next": 0}

    def make(count: int, **fields) -> list[Customer]:
        start = counter["next"]
        counter["next"] += count
        customers = Customer.objects.bulk_create(
            [Customer(external_id=f"V{start + number:06d}", name=f"Customer {start + number}", **fields)
             for number in range(count)])
        CustomerTag.objects.bulk_create([CustomerTag(customer=customer, tag=vip) for customer in customers])
        return customers

    return make
