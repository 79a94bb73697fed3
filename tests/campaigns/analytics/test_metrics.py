"""Every campaign metric against an independent pandas computation on generated data."""

import math
import random
from datetime import timedelta
from decimal import Decimal

import pandas as pd
import pytest
from django.utils import timezone

from campaigns.analytics import stored
from campaigns.analytics.metrics import campaign_metrics, uplift
from campaigns.models import CampaignMetrics, Task
from tests.factories import BranchFactory, CampaignFactory, CustomerFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db

RESULTS = [("", ""), ("reached", "converted"), ("reached", "interested"), ("reached", "call_back"),
           ("reached", "declined"), ("reached", "not_interested"), ("unreachable", ""), ("wrong_number", ""),
           ("refused", "")]


@pytest.fixture
def generated(db):
    rng = random.Random(7)
    branches = [BranchFactory(code=code) for code in ("SZ01", "SH02", "BJ01")]
    managers = [UserFactory(username=f"am{n}", role="account_manager", branch=branches[n % 3]) for n in range(4)]
    customers = [CustomerFactory(branch=rng.choice(branches)) for _n in range(120)]
    campaigns = [CampaignFactory(status="running", cost_fixed=Decimal(fixed), cost_per_contact=Decimal(per))
                 for fixed, per in (("500", "2.5"), ("0", "0"), ("1000", "0"))]
    now = timezone.now()
    for campaign in campaigns:
        for customer in rng.sample(customers, 80):
            group = "control" if rng.random() < 0.2 else "treatment"
            contact, response = rng.choice(RESULTS)
            done = bool(contact)
            TaskFactory(
                campaign=campaign, customer=customer, group=group, channel=rng.choice(["phone", "sms", "wechat"]),
                assignee=None if group == "control" else rng.choice(managers),
                status="done" if done else rng.choice(["open", "in_progress", "cancelled"]),
                contact_result=contact, response=response,
                failure_reason=rng.choice(["price", "risk", ""]) if response in ("declined", "not_interested") else "",
                amount=Decimal(rng.randrange(0, 90_000)) if response == "converted" and rng.random() < 0.8 else None,
                created_at=now - timedelta(days=5),
                completed_at=now - timedelta(days=rng.randrange(0, 4), hours=rng.randrange(0, 20)) if done else None)
    return campaigns


def frame() -> pd.DataFrame:
    rows = Task.objects.values("campaign_id", "group", "channel", "status", "contact_result", "response",
                               "failure_reason", "amount", "assignee__username", "customer__branch__code",
                               "created_at", "completed_at")
    data = pd.DataFrame.from_records(list(rows))
    data["amount"] = data["amount"].astype(object).where(data["amount"].notna(), Decimal(0))
    return data


def expected_for(tasks: pd.DataFrame, cost_fixed: Decimal, cost_per_contact: Decimal) -> dict:
    treatment = tasks[tasks["group"] == "treatment"]
    contacted = int((treatment["contact_result"] != "").sum())
    converted = int((treatment["response"] == "converted").sum())
    revenue = sum(treatment["amount"], Decimal(0))
    cost = cost_fixed + cost_per_contact * contacted
    return {
        "tasks": len(treatment), "done": int((treatment["status"] == "done").sum()), "contacted": contacted,
        "reached": int((treatment["contact_result"] == "reached").sum()),
        "interested": int(treatment["response"].isin(["interested", "call_back", "converted"]).sum()),
        "converted": converted, "revenue": revenue, "cost": cost,
        "success_rate": round(converted / contacted, 4) if contacted else None,
        "roi": round(float((revenue - cost) / cost), 4) if cost else None,
        "revenue_per_contact": round(float(revenue) / contacted, 2) if contacted else None,
    }


def test_totals_rates_costs_and_roi_match_pandas(generated):
    data = frame()
    metrics = campaign_metrics([campaign.pk for campaign in generated])
    for campaign in generated:
        expected = expected_for(data[data["campaign_id"] == campaign.pk], campaign.cost_fixed, campaign.cost_per_contact)
        got = metrics[campaign.pk]
        assert {key: got[key] for key in expected} == expected, campaign.name


def test_breakdowns_match_pandas(generated):
    data = frame()
    campaign = generated[0]
    got = campaign_metrics([campaign.pk])[campaign.pk]
    treatment = data[(data["campaign_id"] == campaign.pk) & (data["group"] == "treatment")]
    for key, column, label in (("by_channel", "channel", "channel"),
                               ("by_account_manager", "assignee__username", "account_manager"),
                               ("by_branch", "customer__branch__code", "branch")):
        expected = {}
        for value, rows in treatment.groupby(column):
            contacted = int((rows["contact_result"] != "").sum())
            converted = int((rows["response"] == "converted").sum())
            expected[value] = (len(rows), contacted, converted, round(converted / contacted, 4) if contacted else None)
        assert {row[label]: (row["tasks"], row["contacted"], row["converted"], row["success_rate"])
                for row in got[key]} == expected, key
    declined = treatment[treatment["response"].isin(["declined", "not_interested"])]
    assert {row["reason"]: row["count"] for row in got["by_failure_reason"]} == \
        declined["failure_reason"].value_counts().to_dict()
    done = treatment[treatment["completed_at"].notna()].copy()
    # TruncDate takes the calendar day in the current time zone.
    done["day"] = pd.to_datetime(done["completed_at"], utc=True).dt.tz_convert(
        str(timezone.get_current_timezone())).dt.date.astype(str)
    assert {row["day"]: row["done"] for row in got["by_day"]} == done.groupby("day").size().to_dict()


def test_uplift_against_a_hand_computed_interval(generated):
    data = frame()
    campaign = generated[0]
    Task.objects.filter(campaign=campaign, group="control").update(completed_at=timezone.now())  # outcomes known
    got = campaign_metrics([campaign.pk])[campaign.pk]["uplift"]
    rows = data[data["campaign_id"] == campaign.pk]
    treated, control = rows[rows["group"] == "treatment"], rows[rows["group"] == "control"]
    p1 = (treated["response"] == "converted").mean()
    p2 = (control["response"] == "converted").mean()
    error = math.sqrt(p1 * (1 - p1) / len(treated) + p2 * (1 - p2) / len(control))
    assert got["uplift"] == round(p1 - p2, 4)
    assert got["ci_low"] == round(p1 - p2 - 1.959964 * error, 4) and got["ci_high"] == round(p1 - p2 + 1.959964 * error, 4)
    assert got["significant"] == (got["ci_low"] > 0 or got["ci_high"] < 0)


def test_uplift_is_not_claimed_without_control_outcomes(generated):
    campaign = generated[0]
    Task.objects.filter(campaign=campaign, group="control").update(completed_at=None)
    assert campaign_metrics([campaign.pk])[campaign.pk]["uplift"] is None


def test_uplift_significance_said_plainly():
    strong = uplift(treated=2000, treated_converted=400, control=2000, control_converted=200, known=True)
    weak = uplift(treated=50, treated_converted=6, control=50, control_converted=5, known=True)
    assert strong["significant"] and strong["ci_low"] > 0
    assert not weak["significant"] and weak["ci_low"] < 0 < weak["ci_high"]
    assert uplift(treated=10, treated_converted=1, control=0, control_converted=0, known=True) is None


def test_empty_and_zero_cost_campaigns_raise_no_division_error(db):
    empty = CampaignFactory(status="running", cost_fixed=0, cost_per_contact=0)
    costly = CampaignFactory(status="running", cost_fixed=100, cost_per_contact=0)
    free_with_revenue = CampaignFactory(status="running", cost_fixed=0, cost_per_contact=0)
    TaskFactory(campaign=free_with_revenue, contact_result="reached", response="converted", amount=50, status="done")
    metrics = campaign_metrics([empty.pk, costly.pk, free_with_revenue.pk])
    assert metrics[empty.pk]["tasks"] == 0 and metrics[empty.pk]["success_rate"] is None
    assert metrics[empty.pk]["roi"] is None and metrics[empty.pk]["uplift"] is None
    assert metrics[costly.pk]["roi"] == -1.0 and metrics[costly.pk]["contact_rate"] is None
    assert metrics[free_with_revenue.pk]["roi"] is None and metrics[free_with_revenue.pk]["success_rate"] == 1.0


def test_an_outcome_refreshes_the_stored_metrics_once_per_burst(alice, django_capture_on_commit_callbacks):
    from campaigns.workspace.services import log_outcome

    campaign = CampaignFactory(status="running")
    first, second = TaskFactory(campaign=campaign, assignee=alice), TaskFactory(campaign=campaign, assignee=alice)
    with django_capture_on_commit_callbacks(execute=True):
        log_outcome(task=first, by=alice, version=1, contact_result="reached", response="converted", amount=10)
    row = CampaignMetrics.objects.get(campaign=campaign)
    assert row.data["converted"] == 1 and row.data["revenue"] == "10.00"
    assert stored.refresh_metrics(campaign_id=campaign.pk) is False  # nothing new since: skipped
    with django_capture_on_commit_callbacks(execute=True):
        log_outcome(task=second, by=alice, version=1, contact_result="unreachable")
    row.refresh_from_db()
    assert row.data["contacted"] == 2


def test_nightly_recompute_stores_every_campaign(generated):
    assert stored.recompute_all_metrics() == len(generated)
    kept = {row.campaign_id: row.data for row in CampaignMetrics.objects.all()}
    live = campaign_metrics(None)
    assert {pk: data["converted"] for pk, data in kept.items()} == {pk: data["converted"] for pk, data in live.items()}
