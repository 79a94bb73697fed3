"""Activity in the browser's pages: products, the customer page, and the import wizard."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from activity.models import Holding, Transaction
from activity.services import ingest_batch
from core.models import Job
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(alice, bob):
    fund = ProductFactory(code="FUND-A", name="Alpha fund", risk_level=3)
    mine, theirs = CustomerFactory(external_id="a1", owner=alice), CustomerFactory(external_id="b1", owner=bob)
    now = timezone.now()
    ingest_batch("transactions", [
        {"id": "t1", "customer": "a1", "product": "FUND-A", "kind": "buy", "amount": "1200.50",
         "occurred_at": (now - timedelta(days=40)).isoformat(), "channel": "app"},
        {"id": "t2", "customer": "b1", "product": "FUND-A", "kind": "buy", "amount": "99",
         "occurred_at": (now - timedelta(days=1)).isoformat()}])
    ingest_batch("events", [{"id": "e1", "customer": "a1", "type": "product_view", "occurred_at": now.isoformat(),
                             "properties": {"page": "fund-a"}}])
    Holding.objects.create(customer=mine, product=fund, as_of=timezone.localdate(), amount=5000)
    Holding.objects.create(customer=theirs, product=fund, as_of=timezone.localdate(), amount=7000)
    return {"fund": fund, "mine": mine, "theirs": theirs}


def test_the_product_pages_count_only_what_the_reader_may_see(web_as, mia, alice, history):
    listing = web_as(mia).get("/products/")
    assert listing.status_code == 200 and b"FUND-A" in listing.content
    assert listing.context["products"] == [(history["fund"], 2)]
    assert web_as(alice).get("/products/").context["products"] == [(history["fund"], 1)]
    detail = web_as(mia).get("/products/FUND-A/")
    assert detail.context["holders"] == 2 and sum(month["buyers"] for month in detail.context["months"]) == 2
    assert web_as(alice).get("/products/FUND-A/").context["holders"] == 1
    assert web_as(mia).get("/products/NOPE/").status_code == 404


def test_the_customer_page_shows_holdings_transactions_and_events(web_as, alice, history):
    page = web_as(alice).get(f"/customers/{history['mine'].pk}/")
    content = page.content.decode()
    assert "data-holdings" in content and "5,000.00" in content
    kinds = [event["kind"] for event in page.context["timeline"]]
    assert "transaction" in kinds and "event" in kinds
    assert "1,200.50" in content and "product_view" in content
    assert web_as(alice).get(f"/customers/{history['theirs'].pk}/").status_code == 404


def test_the_import_wizard_previews_with_row_errors_then_imports(web_as, mia, django_capture_on_commit_callbacks):
    ProductFactory(code="FUND-A")
    CustomerFactory(external_id="c1")
    client = web_as(mia)
    upload = SimpleUploadedFile("tx.csv", b"txn;client;product;kind;amount;time\n"
                                          b"t1;c1;FUND-A;buy;100;2026-11-20 10:00\nt2;ghost;FUND-A;buy;5;2026-11-20 10:00\n")
    page = client.post("/activity/import/", {"kind": "transactions", "file": upload, "delimiter": ";"}, follow=True)
    assert page.context["problem"]  # the headers name no column: the file as it stands is refused, with why
    token = page.context["token"]
    mapping = {"token": token, "col_0": "external_id", "col_1": "customer_external_id", "col_2": "product_code",
               "col_3": "kind", "col_4": "amount", "col_5": "occurred_at"}
    checked = client.post("/activity/import/", mapping)
    assert checked.context["problem"] is None
    assert (checked.context["preview"].accepted, checked.context["preview"].rejected) == (1, 1)
    assert not Transaction.objects.exists()  # the preview writes nothing
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.post("/activity/import/", {**mapping, "confirm": "1"})
    job = Job.objects.get(kind="import_activity")
    assert queued["Location"] == f"/activity/import/{job.pk}/"
    assert job.state == "succeeded" and job.result["accepted"] == 1 and job.result["rejected"] == 1
    status = client.get(queued["Location"])
    assert b"No customer has this external id." in status.content
    assert b"ghost" in client.get(f"/activity/import/{job.pk}/errors.csv").getvalue()
    assert Transaction.objects.get().external_id == "t1"
