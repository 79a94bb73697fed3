"""Attributed conversions and suitability: purchases of the promoted products after launch, in the
treated and the holdout group alike, checked against an independent computation with pandas."""

import random
from datetime import timedelta
from decimal import Decimal

import pandas as pd
import pytest
from django.utils import timezone

from activity.models import Transaction
from activity.services import ingest_batch
from campaigns.analytics.metrics import campaign_metrics
from campaigns.lifecycle import services
from campaigns.models import CampaignSettingChange, Task
from tests.campaigns.analytics.test_metrics import newcombe_by_hand
from tests.factories import CampaignFactory, ProductFactory

pytestmark = pytest.mark.django_db


def launch(campaign, by, capture):
    with capture(execute=True):
        services.queue_launch(campaign=campaign, by=by)
    campaign.refresh_from_db()
    return campaign


def test_suitability_excludes_customers_below_the_riskiest_product(make_vips, mia, alice,
                                                                    django_capture_on_commit_callbacks):
    fund, deposit = ProductFactory(code="FUND-A", risk_level=4), ProductFactory(code="DEP-1", risk_level=1)
    make_vips(5, owner=alice, risk_level=5)
    make_vips(4, owner=alice, risk_level=4)
    make_vips(3, owner=alice, risk_level=3)
    make_vips(2, owner=alice, risk_level=None)  # no assessment: suitable for R1 only
    make_vips(1, owner=alice, risk_level=2, do_not_contact=True)  # counted under the first reason
    campaign = CampaignFactory(owner=mia, strategy="owner")
    campaign.products.set([fund, deposit])
    launch(campaign, mia, django_capture_on_commit_callbacks)
    assert campaign.excluded == {"unsuitable": 5, "do_not_contact": 1}
    assert campaign.task_count == 9
    assert set(campaign.tasks.values_list("customer__risk_level", flat=True)) == {4, 5}


def test_switching_suitability_off_is_recorded_and_excludes_nobody(make_vips, api_as, mia, alice,
                                                                   django_capture_on_commit_callbacks):
    ProductFactory(code="FUND-A", risk_level=5)
    make_vips(3, owner=alice, risk_level=1)
    client = api_as(mia)
    created = client.post("/api/v1/campaigns/", {"name": "Fund push", "channel": "phone", "text": "vip",
                                                "products": ["FUND-A"], "suitability": False}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["products"] == ["FUND-A"] and created.json()["attribution_days"] == 30
    change = CampaignSettingChange.objects.get()
    assert (change.field, change.after, change.by) == ("suitability", "false", mia)
    campaign = launch(services.Campaign.objects.get(pk=created.json()["id"]), mia, django_capture_on_commit_callbacks)
    assert campaign.excluded == {} and campaign.task_count == 3
    locked = client.patch(f"/api/v1/campaigns/{campaign.pk}/", {"products": []}, format="json")
    assert locked.status_code == 400 and "products" in locked.json()


def test_an_unknown_product_code_is_a_field_error(db, api_as, mia):
    response = api_as(mia).post("/api/v1/campaigns/", {"name": "X", "text": "vip", "products": ["NOPE"]}, format="json")
    assert response.status_code == 400 and "products" in response.json()


def test_attributed_conversions_and_uplift_equal_an_independent_computation(
        make_vips, mia, alice, django_capture_on_commit_callbacks, monkeypatch):
    fund = ProductFactory(code="FUND-A", risk_level=1)
    ProductFactory(code="BOND-7", risk_level=1)  # bought too, but not promoted
    make_vips(400, owner=alice, risk_level=3)
    campaign = CampaignFactory(owner=mia, strategy="owner", holdout_pct=30, attribution_days=14)
    campaign.products.set([fund])
    launch(campaign, mia, django_capture_on_commit_callbacks)
    launched = campaign.launched_at
    arms = dict(Task.objects.filter(campaign=campaign).values_list("customer__external_id", "group"))
    assert set(arms.values()) == {"treatment", "control"}

    # Purchases around the window: before launch, inside, after it closes, and of another product.
    rng = random.Random(5)
    items, now = [], timezone.now()
    for number, external_id in enumerate(sorted(arms)):
        if rng.random() < 0.45:
            continue
        offset = rng.choice([-2, 0.01, 1, 5, 13.9, 14.1, 20])
        at = launched + timedelta(days=offset)
        if at > now:  # the future cannot be ingested: move the launch back instead
            continue
        items.append({"id": f"t{number}", "customer": external_id, "product": rng.choice(["FUND-A", "FUND-A", "BOND-7"]),
                      "kind": rng.choice(["buy", "buy", "redeem"]), "amount": str(rng.choice([100, 2500.5])),
                      "occurred_at": at.isoformat()})
    # Launched "now", so move the launch 21 days back: every offset is then in the past.
    shift = timedelta(days=21)
    campaign.launched_at = launched - shift
    campaign.save(update_fields=["launched_at"])
    for item in items:
        item["occurred_at"] = (pd.Timestamp(item["occurred_at"]) - shift).isoformat()
    for start in range(0, len(items), 1000):
        assert not ingest_batch("transactions", items[start:start + 1000]).rejected

    frame = pd.DataFrame(items)
    frame["at"] = pd.to_datetime(frame["occurred_at"], utc=True)
    frame["group"] = frame["customer"].map(arms)
    start, end = campaign.launched_at, campaign.launched_at + timedelta(days=14)
    hits = frame[(frame["product"] == "FUND-A") & (frame["kind"] == "buy") & (frame["at"] >= start) & (frame["at"] < end)]
    monkeypatch.setattr("campaigns.analytics.metrics.MIN_UPLIFT_CUSTOMERS", 10)
    stats = campaign_metrics([campaign.pk])[campaign.pk]
    got = stats["attributed"]
    for arm in ("treatment", "control"):
        customers = sum(1 for group in arms.values() if group == arm)
        bought = hits[hits["group"] == arm]
        assert got[arm]["customers"] == customers
        assert got[arm]["converted"] == bought["customer"].nunique()
        assert got[arm]["revenue"] == sum((Decimal(value) for value in bought["amount"]), Decimal(0))
    x1, n1 = got["treatment"]["converted"], got["treatment"]["customers"]
    x2, n2 = got["control"]["converted"], got["control"]["customers"]
    low, high = newcombe_by_hand(x1, n1, x2, n2)
    lift = stats["uplift"]
    assert lift["source"] == "transactions" and lift["enough_data"]
    assert lift["value"] == round(x1 / n1 - x2 / n2, 4)
    assert (lift["ci_low"], lift["ci_high"]) == (round(low, 4), round(high, 4))
    assert got["window_open"] is False and got["products"] == ["FUND-A"]


def test_converted_any_counts_a_customer_once_when_a_purchase_and_a_logged_outcome_agree(
        make_vips, mia, alice, django_capture_on_commit_callbacks):
    fund = ProductFactory(code="FUND-A", risk_level=1)
    make_vips(3, owner=alice)
    campaign = CampaignFactory(owner=mia, strategy="owner")
    campaign.products.set([fund])
    launch(campaign, mia, django_capture_on_commit_callbacks)
    tasks = list(Task.objects.filter(campaign=campaign).select_related("customer").order_by("pk"))
    Task.objects.filter(pk__in=[tasks[0].pk, tasks[1].pk]).update(response="converted", contact_result="reached",
                                                                  completed_at=timezone.now(), status="done")
    at = timezone.now().isoformat()
    ingest_batch("transactions", [
        {"id": "a", "customer": tasks[0].customer.external_id, "product": "FUND-A", "kind": "buy", "amount": 1,
         "occurred_at": at},  # logged and bought: once
        {"id": "b", "customer": tasks[2].customer.external_id, "product": "FUND-A", "kind": "buy", "amount": 1,
         "occurred_at": at}])  # bought only
    got = campaign_metrics([campaign.pk])[campaign.pk]["attributed"]
    assert (got["treatment"]["converted"], got["converted_any"], got["logged_only"]) == (2, 3, 1)
    assert got["window_open"] is True


def test_an_ingested_purchase_refreshes_the_stored_figures(make_vips, mia, alice, django_capture_on_commit_callbacks):
    from campaigns.analytics.stored import stored_metrics

    fund = ProductFactory(code="FUND-A", risk_level=1)
    make_vips(2, owner=alice)
    campaign = CampaignFactory(owner=mia, strategy="owner")
    campaign.products.set([fund])
    launch(campaign, mia, django_capture_on_commit_callbacks)
    assert stored_metrics([campaign.pk])[campaign.pk]["attributed"]["treatment"]["converted"] == 0
    customer = Task.objects.filter(campaign=campaign).first().customer
    with django_capture_on_commit_callbacks(execute=True):
        ingest_batch("transactions", [{"id": "a", "customer": customer.external_id, "product": "FUND-A",
                                       "kind": "buy", "amount": 5, "occurred_at": timezone.now().isoformat()}])
    assert Transaction.objects.count() == 1
    assert stored_metrics([campaign.pk])[campaign.pk]["attributed"]["treatment"]["converted"] == 1


def test_stats_api_shows_attributed_and_a_campaign_without_products_says_null(make_vips, api_as, mia, alice,
                                                                              django_capture_on_commit_callbacks):
    make_vips(2, owner=alice)
    campaign = launch(CampaignFactory(owner=mia, strategy="owner"), mia, django_capture_on_commit_callbacks)
    body = api_as(mia).get(f"/api/v1/campaigns/{campaign.pk}/stats/").json()
    assert body["attributed"] is None and body["uplift"]["source"] == "logged"
