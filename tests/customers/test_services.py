import pytest
from django.core.exceptions import ValidationError

from customers import services
from customers.models import Customer, CustomerChange, CustomerTag, Tag, TagChange
from tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


def logged() -> list[int | None]:
    """Customer ids in the change feed, oldest first."""
    return list(CustomerChange.objects.order_by("id").values_list("customer_id", flat=True))


def test_add_tag_links_only_customers_that_lack_it_and_records_who(mia):
    vip = TagFactory(slug="vip")
    has, lacks = CustomerFactory(tags=[vip]), CustomerFactory()
    before = len(logged())
    added = services.add_tag(tag=vip, customers=Customer.objects.all(), by=mia)
    assert added == 1
    link = CustomerTag.objects.get(customer=lacks, tag=vip)
    assert (link.added_by, link.source) == (mia, "manual")
    assert TagChange.objects.filter(customer=lacks, tag_slug="vip", action="added", by=mia).count() == 1
    assert not TagChange.objects.filter(customer=has).exists()
    assert logged()[before:] == [lacks.pk]


def test_remove_tag_unlinks_and_logs(mia):
    vip = TagFactory(slug="vip")
    customer = CustomerFactory(tags=[vip])
    assert services.remove_tag(tag=vip, customers=Customer.objects.all(), by=mia) == 1
    assert not CustomerTag.objects.exists()
    assert TagChange.objects.get(customer=customer).action == "removed"


def test_nothing_to_do_logs_no_change():
    vip = TagFactory(slug="vip")
    CustomerFactory(tags=[vip])
    before = logged()
    assert services.add_tag(tag=vip, customers=Customer.objects.all()) == 0
    assert logged() == before


def test_a_statement_touching_very_many_customers_logs_one_everything_row(monkeypatch):
    """PostgreSQL's statement triggers cap the list; SQLite logs each row (its writes are serialised)."""
    from django.db import connection

    from customers.changes import LIST_LIMIT

    if connection.vendor != "postgresql":
        pytest.skip("row-level triggers on SQLite log every customer")
    Customer.objects.bulk_create([Customer(external_id=f"M{number}") for number in range(LIST_LIMIT + 1)])
    assert logged()[-1:] == [None] and len(logged()) == 1


def test_merge_moves_customers_to_the_target_and_deletes_sources(mia):
    wx, wechat, target = TagFactory(slug="wx"), TagFactory(slug="weixin"), TagFactory(slug="wechat")
    a, b, c = CustomerFactory(tags=[wx]), CustomerFactory(tags=[wechat, wx]), CustomerFactory(tags=[target])
    moved = services.merge_tags(sources=[wx, wechat], target=target, by=mia)
    assert moved == 2
    assert set(target.customers.all()) == {a, b, c}
    assert not Tag.objects.filter(slug__in=["wx", "weixin"]).exists()


def test_merge_into_itself_is_refused():
    tag = TagFactory(slug="vip")
    with pytest.raises(ValidationError):
        services.merge_tags(sources=[tag], target=tag)


def test_delete_tag_reports_how_many_carried_it():
    vip = TagFactory(slug="vip")
    CustomerFactory(tags=[vip]), CustomerFactory(tags=[vip])
    assert services.delete_tag(tag=vip) == 2
    assert not CustomerTag.objects.exists()


def test_create_tag_refuses_a_slug_expressions_cannot_name():
    with pytest.raises(ValidationError) as error:
        services.create_tag(slug="VIP clients", name="VIP")
    assert "vip-clients" in str(error.value)


def test_assign_owner_moves_customers_to_the_owners_branch(alice, shenzhen):
    customer = CustomerFactory()
    services.assign_owner(customers=Customer.objects.filter(pk=customer.pk), owner=alice)
    customer.refresh_from_db()
    assert (customer.owner, customer.branch) == (alice, shenzhen)


@pytest.mark.django_db(transaction=True)
def test_a_customer_edit_does_not_wait_for_a_bulk_tagging_still_running(mia):
    """Writers share no row any more: the old DataVersion counter was locked by every customer write
    until commit, so one long bulk tagging held up every edit in the book."""
    import threading

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time by design")
    vip = TagFactory(slug="vip")
    crowd = [CustomerFactory() for _ in range(20)]
    other = CustomerFactory(name="Before")
    tagging, release = threading.Event(), threading.Event()

    def bulk_tagging():
        with transaction.atomic():
            services.add_tag(tag=vip, customers=Customer.objects.filter(pk__in=[c.pk for c in crowd]), by=mia)
            tagging.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=bulk_tagging)
    thread.start()
    try:
        assert tagging.wait(10)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")  # waiting on the tagging would fail here
            services.save_customer(customer=Customer.objects.get(pk=other.pk), name="After")
    finally:
        release.set()
        thread.join(10)
    assert Customer.objects.get(pk=other.pk).name == "After"
    assert CustomerTag.objects.filter(tag=vip).count() == 20
