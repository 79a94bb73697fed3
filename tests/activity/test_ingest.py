"""The activity ingestion engine through its three ways in: the command, the upload job, the batch API."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from activity.models import Event, Holding, Product, Transaction
from activity.services import import_file
from customers.importing import ImportFileError
from tests.factories import CustomerFactory, ProductFactory


@pytest.fixture
def catalogue(db):
    return {"FUND-A": ProductFactory(code="FUND-A", type="fund", risk_level=3),
            "DEP-1": ProductFactory(code="DEP-1", type="deposit", risk_level=1)}


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_transactions_file_reports_accepted_duplicates_and_row_errors(db, tmp_path, catalogue):
    CustomerFactory(external_id="c1")
    CustomerFactory(external_id="c2")
    path = write(tmp_path, "t.csv", "external_id,customer_external_id,product_code,kind,amount,occurred_at,channel\n"
                 "t1,c1,FUND-A,buy,1000,2026-11-20 10:00,app\n"
                 "t2,c2,FUND-A,buy,\"2,500.50\",2026-11-21T09:00:00+08:00,branch\n"
                 "t2,c2,FUND-A,buy,2500.50,2026-11-21T09:00:00+08:00,branch\n"  # repeated in the file
                 "t3,nobody,FUND-A,buy,10,2026-11-21,app\n"  # unknown customer
                 "t4,c1,NOPE,buy,10,2026-11-21,app\n"  # unknown product
                 "t5,c1,,buy,10,2026-11-21,app\n"  # a buy names its product
                 "t6,c1,,deposit,10,2099-01-01,app\n"  # the future
                 "t7,c1,,deposit,-5,2026-11-21,app\n"  # negative
                 "t8,c1,,teleport,5,2026-11-21,app\n")  # unknown kind
    report = import_file(path, kind="transactions")
    assert (report.accepted, report.duplicates, report.rejected) == (2, 1, 6)
    problems = {(error["row"], error["column"]) for error in report.errors}
    assert problems == {(4, "customer_external_id"), (5, "product_code"), (6, "product_code"), (7, "occurred_at"),
                        (8, "amount"), (9, "kind")}
    assert all(error["line"] == error["row"] + 1 for error in report.errors)
    t2 = Transaction.objects.get(external_id="t2")
    assert str(t2.amount) == "2500.50" and t2.occurred_on.isoformat() == "2026-11-21"
    # A time without an offset is read in TIME_ZONE (Asia/Shanghai): 10:00 there is 02:00 UTC.
    assert Transaction.objects.get(external_id="t1").occurred_at.isoformat() == "2026-11-20T02:00:00+00:00"

    again = import_file(path, kind="transactions")
    assert (again.accepted, again.duplicates, again.rejected) == (0, 3, 6)
    assert Transaction.objects.count() == 2


def test_a_day_boundary_in_the_bank_time_zone(db, tmp_path, catalogue):
    CustomerFactory(external_id="c1")
    path = write(tmp_path, "t.csv", "external_id,customer_external_id,product_code,kind,amount,occurred_at\n"
                 "late,c1,FUND-A,buy,1,2026-11-20T16:30:00Z\n")  # 00:30 on the 21st in Shanghai
    import_file(path, kind="transactions")
    assert Transaction.objects.get().occurred_on.isoformat() == "2026-11-21"


def test_events_keep_their_properties_and_unmapped_columns(db, tmp_path):
    CustomerFactory(external_id="c1")
    path = write(tmp_path, "e.csv", "id,customer,type,occurred_at,properties,page\n"
                 "e1,c1,login_failed,2026-11-20 10:00,\"{\"\"reason\"\": \"\"password\"\"}\",\n"
                 "e2,c1,product_view,2026-11-20 10:01,,fund-x\n"
                 "e3,c1,Bad Type,2026-11-20 10:01,,\n"
                 "e4,c1,login,2026-11-20 10:01,[1],\n")
    report = import_file(path, kind="events")
    assert (report.accepted, report.rejected) == (2, 2)
    assert Event.objects.get(external_id="e1").properties == {"reason": "password"}
    assert Event.objects.get(external_id="e2").properties == {"page": "fund-x"}


def test_holdings_are_upserted_by_customer_product_and_day(db, tmp_path, catalogue):
    CustomerFactory(external_id="c1")
    path = write(tmp_path, "h.csv", "customer_external_id,product_code,amount,as_of\nc1,FUND-A,100,2026-11-01\n"
                 "c1,DEP-1,50,2026-11-01\n")
    assert import_file(path, kind="holdings").created == 2
    write(tmp_path, "h.csv", "customer_external_id,product_code,amount,as_of\nc1,FUND-A,120,2026-11-01\n"
          "c1,DEP-1,50,2026-11-01\nc1,DEP-1,50,2026-11-01\n")
    report = import_file(path, kind="holdings")
    # The repeated DEP-1 row refuses both of its rows; FUND-A's new amount is written.
    assert (report.created, report.updated, report.rejected) == (0, 1, 2)
    write(tmp_path, "h.csv", "customer_external_id,product_code,amount,as_of\nc1,FUND-A,120,2026-11-01\n"
          "c1,DEP-1,50,2026-11-01\n")
    report = import_file(path, kind="holdings")
    assert (report.created, report.updated, report.duplicates) == (0, 0, 2)
    assert str(Holding.objects.get(product__code="FUND-A").amount) == "120.00"


def test_products_by_code_with_row_errors(db, tmp_path):
    path = write(tmp_path, "p.csv", "code,name,type,risk_level,term_days,min_amount,launch_date,maturity_date\n"
                 "FUND-A,Alpha,fund,R3,,1000,2026-01-01,\nDEP-1,Deposit,deposit,1,365,,2026-01-01,2025-01-01\n"
                 "X,Spaceship,rocket,9,,,,\n")
    report = import_file(path, kind="products")
    assert (report.created, report.rejected) == (1, 2)
    assert Product.objects.get().risk_level == 3
    assert import_file(path, kind="products").duplicates == 1


def test_a_file_missing_a_required_column_is_refused_whole(db, tmp_path):
    path = write(tmp_path, "t.csv", "external_id,customer_external_id,kind,amount\nt1,c1,buy,5\n")
    with pytest.raises(ImportFileError, match="occurred_at"):
        import_file(path, kind="transactions")


def test_the_command_prints_the_counts(db, tmp_path, catalogue, capsys):
    CustomerFactory(external_id="c1")
    path = write(tmp_path, "t.csv", "external_id,customer_external_id,product_code,kind,amount,occurred_at\n"
                 "t1,c1,FUND-A,buy,1,2026-11-20\nt1,c1,FUND-A,buy,1,2026-11-20\n")
    call_command("import_activity", str(path), kind="transactions")
    assert "accepted 1, duplicates 1, rejected 0" in capsys.readouterr().out


def batch(api, path, items):
    return api.post(path, {"items": items}, format="json")


def test_the_batch_api_answers_accepted_duplicates_and_rejected(db, api_as, mia, catalogue):
    CustomerFactory(external_id="c1")
    now = timezone.now()
    items = [{"id": "t1", "customer": "c1", "product": "FUND-A", "kind": "buy", "amount": "100.00",
              "occurred_at": now.isoformat(), "channel": "app"},
             {"id": "t2", "customer": "ghost", "product": "FUND-A", "kind": "buy", "amount": 5,
              "occurred_at": now.isoformat()},
             {"id": "t1", "customer": "c1", "product": "FUND-A", "kind": "buy", "amount": 100,
              "occurred_at": now.isoformat()}]
    client = api_as(mia)
    response = batch(client, "/api/v1/transactions/", items)
    assert response.status_code == 202, response.content
    assert response.json() == {"accepted": 1, "duplicates": 1,
                               "rejected": [{"index": 1, "errors": {"customer": ["No customer has this external id."]}}]}
    retried = batch(client, "/api/v1/transactions/", items)  # a client retrying after a timeout
    assert retried.json()["accepted"] == 0 and retried.json()["duplicates"] == 2
    assert Transaction.objects.count() == 1
    listed = client.get("/api/v1/transactions/").json()
    assert listed["results"][0]["id"] == "t1" and listed["results"][0]["customer"] == "c1"


def test_the_events_batch_api(db, api_as, mia):
    CustomerFactory(external_id="c1")
    at = (timezone.now() - timedelta(hours=1)).isoformat()
    response = batch(api_as(mia), "/api/v1/events/", [
        {"id": "e1", "customer": "c1", "type": "login_failed", "occurred_at": at, "properties": {"ip": "10.0.0.1"}},
        {"id": "e2", "customer": "c1", "type": "login_failed", "occurred_at": at, "properties": "not an object"}])
    assert response.status_code == 202
    assert response.json()["accepted"] == 1 and response.json()["rejected"][0]["index"] == 1
    assert Event.objects.get().properties == {"ip": "10.0.0.1"}


@pytest.mark.parametrize("body", [{}, {"items": []}, {"items": "x"}, {"items": [1]},
                                  {"items": [{"id": str(n)} for n in range(1001)]}])
def test_a_bad_batch_is_a_400_and_writes_nothing(db, api_as, mia, body):
    response = api_as(mia).post("/api/v1/events/", body, format="json")
    assert response.status_code == 400 and "items" in response.json()
    assert not Event.objects.exists()


def test_account_managers_read_their_own_customers_activity_and_cannot_post(db, api_as, alice, bob, catalogue):
    mine, theirs = CustomerFactory(external_id="a1", owner=alice), CustomerFactory(external_id="b1", owner=bob)
    day = timezone.now() - timedelta(days=1)
    for number, customer in enumerate((mine, theirs)):
        Transaction.objects.create(external_id=f"t{number}", customer=customer, product=catalogue["FUND-A"], kind="buy",
                                   amount=1, occurred_at=day, occurred_on=timezone.localdate(day))
    client = api_as(alice)
    assert [row["customer"] for row in client.get("/api/v1/transactions/").json()["results"]] == ["a1"]
    assert batch(client, "/api/v1/transactions/", [{"id": "x"}]).status_code == 403


def test_products_api_by_code(db, api_as, mia, alice):
    client = api_as(mia)
    created = client.post("/api/v1/products/", {"code": "BOND-7", "name": "Seven-year bond", "type": "bond",
                                                "risk_level": 2, "term_days": 2555}, format="json")
    assert created.status_code == 201, created.content
    assert client.patch("/api/v1/products/BOND-7/", {"status": "closed"}, format="json").json()["status"] == "closed"
    bad = client.post("/api/v1/products/", {"code": "B2", "name": "x", "type": "car", "risk_level": 7}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"type", "risk_level"}
    assert api_as(alice).get("/api/v1/products/BOND-7/").status_code == 200
    assert api_as(alice).patch("/api/v1/products/BOND-7/", {"status": "on_sale"}, format="json").status_code == 403


def test_an_id_repeated_after_a_rejected_row_is_written_once(db, catalogue):
    from activity.services import ingest_batch

    CustomerFactory(external_id="c1")
    at = timezone.now().isoformat()
    report = ingest_batch("transactions", [
        {"id": "t1", "customer": "ghost", "product": "FUND-A", "kind": "buy", "amount": 1, "occurred_at": at},
        {"id": "t1", "customer": "c1", "product": "FUND-A", "kind": "buy", "amount": 1, "occurred_at": at},
        {"id": "t1", "customer": "c1", "product": "FUND-A", "kind": "buy", "amount": 1, "occurred_at": at}])
    assert (report.accepted, report.duplicates, report.rejected) == (1, 1, 1)
    assert Transaction.objects.get().customer.external_id == "c1"


def test_a_full_batch_of_bad_items_reports_every_one(db, api_as, mia):
    """A file's error report is capped at 5,000; an API batch answers each of its items."""
    # Six errors each (the id is too long and holds a control character): 6,000 past the file cap.
    items = [{"id": f"e{n}" + "\x01" * 70, "customer": "nobody", "type": "Bad Type", "occurred_at": "never",
              "properties": "[]"} for n in range(1000)]
    body = api_as(mia).post("/api/v1/events/", {"items": items}, format="json").json()
    assert body["accepted"] == 0 and [item["index"] for item in body["rejected"]] == list(range(1000))
    assert set(body["rejected"][-1]["errors"]) == {"id", "customer", "type", "occurred_at", "properties"}
    assert len(body["rejected"][-1]["errors"]["id"]) == 2


def test_a_large_activity_import_refreshes_the_planner_statistics_on_postgresql(db, tmp_path, catalogue, settings):
    """As a customer import does (issue 21): the index patch and score inputs are planned on them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no ANALYZE-driven planner to speak of here")
    CustomerFactory(external_id="c1")
    at = timezone.now().isoformat()
    path = tmp_path / "events.csv"
    path.write_text("id,customer,type,occurred_at\n" + "".join(f"e{n},c1,login,{at}\n" for n in range(3)))
    settings.IMPORT_ANALYZE_MIN_ROWS = 3
    with CaptureQueriesContext(connection) as queries:
        assert import_file(path, kind="events").accepted == 3
    assert any(query["sql"] == "ANALYZE activity_event" for query in queries.captured_queries)
    settings.IMPORT_ANALYZE_MIN_ROWS = 100
    path.write_text("id,customer,type,occurred_at\n" + "".join(f"f{n},c1,login,{at}\n" for n in range(3)))
    with CaptureQueriesContext(connection) as queries:
        assert import_file(path, kind="events").accepted == 3
    assert not any(query["sql"].startswith("ANALYZE") for query in queries.captured_queries)
