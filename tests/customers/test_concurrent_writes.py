"""Issue 20: two writers doing the same thing at once — a double-clicked add-tag, two bulk adds, two
imports creating the same tags — never end in an IntegrityError, and the history counts each
change once. PostgreSQL runs them truly at once; SQLite has one writer and needs no test here."""

import threading

import pytest
from django.db import connection, transaction

from customers import services
from customers.importing import import_customers
from customers.models import Customer, CustomerTag, Tag, TagChange
from tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: the two cannot interleave")


def at_once(first_work, second_work):
    """first_work runs in a transaction held open until second_work has started waiting on it."""
    started, errors = threading.Event(), []

    def first():
        try:
            with transaction.atomic():
                first_work()
                started.set()
                threading.Event().wait(0.5)  # the second writer arrives while this one is uncommitted
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            started.set()
            connection.close()

    def second():
        started.wait(10)
        try:
            second_work()
        except Exception as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return errors


def test_two_bulk_adds_of_one_tag_at_once_add_each_link_once(mia):
    vip = TagFactory(slug="vip")
    crowd = [CustomerFactory() for _ in range(30)]
    first_half = Customer.objects.filter(pk__in=[c.pk for c in crowd[:20]])
    everyone = Customer.objects.filter(pk__in=[c.pk for c in crowd])
    errors = at_once(lambda: services.add_tag(tag=vip, customers=first_half, by=mia),
                     lambda: services.add_tag(tag=vip, customers=everyone, by=mia))
    assert errors == []
    assert CustomerTag.objects.filter(tag=vip).count() == 30
    assert TagChange.objects.filter(tag_slug="vip", action="added").count() == 30  # each change once


def test_a_double_clicked_add_tag_is_one_change(client, mia):
    vip = TagFactory(slug="vip")
    ann = CustomerFactory()
    client.force_login(mia)
    errors = at_once(lambda: services.add_tag(tag=vip, customers=Customer.objects.filter(pk=ann.pk), by=mia),
                     lambda: client.post(f"/customers/{ann.pk}/tags/", {"tag": "vip"}))
    assert errors == [] and CustomerTag.objects.filter(tag=vip).count() == 1
    assert TagChange.objects.filter(customer=ann).count() == 1


def test_two_imports_creating_the_same_tags_at_once_both_succeed(tmp_path):
    first = tmp_path / "first.csv"
    second = tmp_path / "second.csv"
    first.write_text("external_id,tags\nA1,gold|new-tag\nA2,gold\n")
    second.write_text("external_id,tags\nB1,gold|new-tag\n")
    reports = []
    errors = at_once(lambda: reports.append(import_customers(first)), lambda: reports.append(import_customers(second)))
    assert errors == [] and len(reports) == 2
    assert sorted(report.tags_created for report in reports) == [0, 2]  # counted by the import that made them
    assert Tag.objects.filter(slug__in=["gold", "new-tag"]).count() == 2
    assert CustomerTag.objects.filter(tag__slug="gold").count() == 3
