"""The bitmap engine against two independent evaluations: Python over plain records, and the
naive junction-table SQL — on random data and random expressions (hypothesis)."""

from datetime import date

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings

from customers import services as customer_services
from customers.models import Customer, Tag
from segments import engine
from segments.compiler import resolve
from segments.engine import AudienceIndex
from segments.expression import from_json
from segments.naive import naive_ids
from tests.factories import CustomerFactory, TagFactory
from tests.segments.conftest import make_customers
from tests.segments.strategies import expressions


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def python_matches(record: dict, node: dict, today: date) -> bool:
    """The expression's meaning, written out plainly: NULL never satisfies a comparison."""
    if "tag" in node:
        return node["tag"] in record["tags"]
    if "all" in node:
        return all(python_matches(record, child, today) for child in node["all"])
    if "any" in node:
        return any(python_matches(record, child, today) for child in node["any"])
    if "not" in node:
        return not python_matches(record, node["not"], today)
    name, op, value = node["field"], node["op"], node["value"]
    actual = {
        "age": age_on(record["birth_date"], today) if record["birth_date"] else None,
        "created_at": record["created_day"],
    }.get(name, record.get(name))
    if op == "isnull":
        return (actual is None) == value
    if actual is None:
        return False
    if name == "created_at":
        value = [date.fromisoformat(v) for v in value] if isinstance(value, list) else date.fromisoformat(value)
    if name == "assets":
        actual = float(actual)
    return {
        "eq": lambda: actual == value, "ne": lambda: actual != value, "lt": lambda: actual < value,
        "lte": lambda: actual <= value, "gt": lambda: actual > value, "gte": lambda: actual >= value,
        "in": lambda: actual in value, "between": lambda: value[0] <= actual <= value[1],
    }[op]()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=expressions())
def test_engine_agrees_with_python_and_naive_sql_on_random_expressions(random_customers, tree):
    today = timezone.localdate()
    normalised = from_json(tree)
    expected = {record["id"] for record in random_customers if python_matches(record, normalised, today)}
    resolved = resolve(normalised)
    assert set(engine.evaluate(resolved).bitmap) == expected
    assert naive_ids(resolved) == expected


@pytest.mark.parametrize("seed", [11, 12])
def test_engine_agrees_on_other_random_customer_bases(db, seed):
    records = make_customers(seed=seed, size=250)
    today = timezone.localdate()
    for text in ["vip AND NOT dormant", "assets >= 100000 OR risk_level IS NULL", "NOT (branch = SZ01 OR owner = bob)",
                 "age BETWEEN 30 AND 50 AND lifecycle_stage IN (mature, growth)", "created_at = 2024-06-30"]:
        from segments.expression import parse

        tree = parse(text)
        expected = {r["id"] for r in records if python_matches(r, tree, today)}
        assert set(engine.evaluate(resolve(tree)).bitmap) == expected, text


def count(text: str) -> int:
    from segments.services import preview

    return preview(text=text)["count"]


def test_a_tag_change_is_seen_by_the_next_query(db, mia):
    vip = TagFactory(slug="vip")
    customers = [CustomerFactory() for _ in range(3)]
    assert count("vip") == 0
    customer_services.add_tag(tag=vip, customers=Customer.objects.filter(pk=customers[0].pk), by=mia)
    assert count("vip") == 1
    customer_services.remove_tag(tag=vip, customers=Customer.objects.all(), by=mia)
    assert count("vip") == 0


def test_an_import_is_seen_by_the_next_query(db, tmp_path):
    from customers.importing import import_customers

    TagFactory(slug="vip")
    assert count("vip") == 0
    path = tmp_path / "c.csv"
    path.write_text("external_id,tags,assets\nI1,vip,5\nI2,vip,2000000\n")
    import_customers(path)
    assert count("vip") == 2
    assert count("vip AND assets >= 1000000") == 1


def test_edits_deletes_and_tag_renames_are_seen(db, mia):
    vip = TagFactory(slug="vip")
    rich = CustomerFactory(assets=5_000_000, tags=[vip])
    assert count("assets >= 1000000") == 1
    customer_services.save_customer(customer=rich, assets=10)
    assert count("assets >= 1000000") == 0
    customer_services.update_tag(tag=vip, name="VIP", category=Tag.Category.ASSET, slug="vip-client")
    assert count("vip-client") == 1
    rich.delete()
    assert count("vip-client") == 0


def test_two_processes_each_catch_up_with_writes_made_elsewhere(db, mia):
    """Two indexes stand for two web/worker processes; each patches from the change feed."""
    vip = TagFactory(slug="vip")
    first, second = CustomerFactory(), CustomerFactory()
    process_a, process_b = AudienceIndex.built(), AudienceIndex.built()
    customer_services.add_tag(tag=vip, customers=Customer.objects.filter(pk=first.pk), by=mia)
    process_a = process_a.refreshed()
    customer_services.add_tag(tag=vip, customers=Customer.objects.filter(pk=second.pk), by=mia)
    for process in (process_a.refreshed(), process_b.refreshed()):
        assert set(process.tags[vip.pk]) == {first.pk, second.pk}


def watch_builds(monkeypatch) -> list:
    built = []
    original = AudienceIndex.built.__func__
    monkeypatch.setattr(AudienceIndex, "built", classmethod(lambda cls: (built.append(1), original(cls))[1]))
    return built


def test_a_large_change_rebuilds_instead_of_patching(db, monkeypatch):
    vip = TagFactory(slug="vip")
    customers = [CustomerFactory() for _ in range(5)]
    index = AudienceIndex.built()
    monkeypatch.setattr(engine, "PATCH_LIMIT", 2)
    built = watch_builds(monkeypatch)
    customer_services.add_tag(tag=vip, customers=Customer.objects.filter(pk__in=[c.pk for c in customers]))
    index = index.refreshed()
    assert built and len(index.tags[vip.pk]) == 5


def test_a_different_database_is_never_mistaken_for_the_cached_one(db, monkeypatch):
    """The epoch differs when the epoch row is made anew (a fresh or restored database)."""
    from customers.models import DataVersion

    CustomerFactory()
    index = AudienceIndex.built()
    DataVersion.objects.filter(pk=1).delete()
    DataVersion.objects.create(pk=1)  # new epoch
    built = watch_builds(monkeypatch)
    assert len(index.refreshed().universe) == 1 and built


def test_a_pruned_change_feed_makes_a_lagging_process_rebuild(db, mia, monkeypatch):
    from datetime import timedelta

    from customers import changes
    from customers.models import CustomerChange

    vip = TagFactory(slug="vip")
    customer = CustomerFactory()
    index = AudienceIndex.built()
    customer_services.add_tag(tag=vip, customers=Customer.objects.filter(pk=customer.pk), by=mia)
    CustomerChange.objects.update(at=timezone.now() - timedelta(days=3))
    monkeypatch.setattr(timezone, "now", lambda original=timezone.now: original() + timedelta(days=3))
    assert changes.prune() > 0
    built = watch_builds(monkeypatch)
    assert set(index.refreshed().tags[vip.pk]) == {customer.pk}
    assert built


def test_a_patch_keeps_created_at_exact_on_every_database(db, mia):
    """The SQLite patch once stored created_ts = 0 (strftime('%s') beside %s placeholders)."""
    today = timezone.localdate().isoformat()
    engine.current_index()  # warm: what follows is a patch, not a rebuild
    CustomerFactory(assets=7)
    assert count(f"created_at >= {today}") == 1
    assert count(f"created_at < {today}") == 0


def test_a_patch_does_not_re_sort_the_numeric_columns(db):
    customers = [CustomerFactory(assets=amount) for amount in (10, 20, 30, 40)]
    index = AudienceIndex.built()
    sorted_assets = index.numeric["assets"].values
    customer_services.save_customer(customer=customers[0], assets=35)
    patched = index.refreshed()
    assert patched.numeric["assets"].values is sorted_assets  # the sorted base is shared
    assert set(patched.numeric["assets"].range(25, True, None, True)) == {c.pk for c in customers[0:1] + customers[2:]}
    assert set(patched.numeric["assets"].range(None, True, 15, True)) == set()


def test_a_published_index_never_changes_under_its_readers(db, mia):
    vip = TagFactory(slug="vip")
    customer = CustomerFactory(tags=[vip], assets=5)
    before = AudienceIndex.built()
    customer_services.remove_tag(tag=vip, customers=Customer.objects.all(), by=mia)
    customer_services.save_customer(customer=customer, assets=500)
    after = before.refreshed()
    assert set(before.tags[vip.pk]) == {customer.pk} and set(before.numeric["assets"].range(1, True, 10, True))
    assert set(after.tags[vip.pk]) == set() and not after.numeric["assets"].range(1, True, 10, True)


def test_raw_sql_writes_are_seen_without_any_writer_remembering(db):
    """The change feed is written by database triggers, so even SQL that bypasses the ORM counts."""
    from django.db import connection

    vip = TagFactory(slug="vip")
    customer = CustomerFactory()
    assert count("vip") == 0
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO customers_customertag (customer_id, tag_id, source, added_at) VALUES (%s, %s, %s, %s)",
                       [customer.pk, vip.pk, "manual", timezone.now()])
        cursor.execute("UPDATE customers_customer SET assets = 2000000 WHERE id = %s", [customer.pk])
    assert count("vip AND assets >= 1000000") == 1
    Customer.objects.filter(pk=customer.pk).delete()
    assert count("vip") == 0


@pytest.mark.django_db(transaction=True)
def test_a_write_committed_after_the_readers_look_is_caught_on_the_next(mia):
    """A transaction still running when a process looks is invisible then and caught once it commits."""
    import threading

    from django.db import connection, transaction

    vip = TagFactory(slug="vip")
    customer = CustomerFactory()
    index = AudienceIndex.built()
    written, release = threading.Event(), threading.Event()

    def writer():
        with transaction.atomic():
            customer_services.add_tag(tag=vip, customers=Customer.objects.filter(pk=customer.pk), by=mia)
            written.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(10)
    index = index.refreshed()
    assert not index.tags.get(vip.pk)
    release.set()
    thread.join(10)
    assert set(index.refreshed().tags[vip.pk]) == {customer.pk}


def test_a_rolled_back_write_seen_by_the_index_is_dropped_on_the_next_look(db):
    """A process that counted inside a transaction which then rolled back must not keep what it saw:
    on PostgreSQL that index stayed private to the transaction; on SQLite, whose ids of rolled-back
    change rows are reused by the next writes, the reader rebuilds."""
    from django.db import transaction

    vip = TagFactory(slug="vip")
    engine.current_index()
    with transaction.atomic():
        CustomerFactory(tags=[vip])
        assert count("vip") == 1  # the transaction sees its own write
        transaction.set_rollback(True)
    assert count("vip") == 0
    later = CustomerFactory(tags=[vip])  # on SQLite its change rows reuse the rolled-back ids
    assert count("vip") == 1 and set(engine.current_index().tags[vip.pk]) == {later.pk}
