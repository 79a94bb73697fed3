"""Every campaign metric against an independent pandas computation on generated data."""

import math
import random
from datetime import timedelta
from decimal import Decimal

import numpy
import pandas as pd
import pytest
from django.utils import timezone

from campaigns.analytics import stored
from campaigns.analytics.metrics import campaign_metrics, newcombe_interval, uplift
from campaigns.models import CampaignMetrics, Task
from tests.factories import BranchFactory, CampaignFactory, CustomerFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db

RESULTS = [("", ""), ("reached", "converted"), ("reached", "interested"), ("reached", "call_back"),
           ("reached", "declined"), ("reached", "not_interested"), ("unreachable", ""), ("wrong_number", ""),
           ("refused", "")]


@pytest.fixture
def generated(db):
    """Three campaigns of 80 customers each; some call-backs have a follow-up attempt (open or
    worked, sometimes by another account manager), as the workspace makes them."""
    rng = random.Random(7)
    branches = [BranchFactory(code=code) for code in ("SZ01", "SH02", "BJ01")]
    managers = [UserFactory(username=f"am{n}", role="account_manager", branch=branches[n % 3]) for n in range(4)]
    customers = [CustomerFactory(branch=rng.choice(branches)) for _n in range(120)]
    campaigns = [CampaignFactory(status="running", cost_fixed=Decimal(fixed), cost_per_contact=Decimal(per))
                 for fixed, per in (("500", "2.5"), ("0", "0"), ("1000", "0"))]
    now = timezone.now()

    def attempt(campaign, customer, group, follow_up_of=None, channel=None):
        contact, response = rng.choice(RESULTS)
        done = bool(contact)
        # A follow-up is opened when the attempt before it is logged, and logged later still.
        created = follow_up_of.completed_at if follow_up_of else now - timedelta(days=5)
        return TaskFactory(
            campaign=campaign, customer=customer, group=group, follow_up_of=follow_up_of,
            channel=channel or rng.choice(["phone", "sms", "wechat"]),
            assignee=None if group == "control" else rng.choice(managers),
            status="done" if done else rng.choice(["open", "in_progress", "cancelled"]),
            contact_result=contact, response=response,
            failure_reason=rng.choice(["price", "risk", ""]) if response in ("declined", "not_interested") else "",
            amount=Decimal(rng.randrange(0, 90_000)) if response == "converted" and rng.random() < 0.8 else None,
            created_at=created,
            completed_at=created + timedelta(hours=rng.randrange(1, 36)) if done else None)

    for campaign in campaigns:
        for customer in rng.sample(customers, 80):
            group = "control" if rng.random() < 0.2 else "treatment"
            task = attempt(campaign, customer, group)
            while group == "treatment" and task.response == "call_back" and rng.random() < 0.7:
                task = attempt(campaign, customer, group, follow_up_of=task, channel=task.channel)
    assert Task.objects.exclude(follow_up_of=None).count() > 5
    return campaigns


def frame() -> pd.DataFrame:
    rows = Task.objects.values("id", "campaign_id", "customer_id", "group", "channel", "status", "contact_result",
                               "response", "failure_reason", "amount", "assignee__username",
                               "customer__branch__code", "created_at", "completed_at")
    data = pd.DataFrame.from_records(list(rows))
    data["amount"] = data["amount"].astype(object).where(data["amount"].notna(), Decimal(0))
    return data


def per_customer(tasks: pd.DataFrame) -> pd.DataFrame:
    """One row per (campaign, customer) of the treatment, computed here from the attempts."""
    treatment = tasks[tasks["group"] == "treatment"].sort_values("id")
    rows = []
    for (_campaign, _customer), attempts in treatment.groupby(["campaign_id", "customer_id"]):
        last = attempts.iloc[-1]
        contacted = bool((attempts["contact_result"] != "").any())
        rows.append({
            "contacted": contacted, "attempts": int((attempts["contact_result"] != "").sum()),
            "reached": bool((attempts["contact_result"] == "reached").any()),
            "interested": bool(attempts["response"].isin(["interested", "call_back", "converted"]).any()),
            "converted": bool((attempts["response"] == "converted").any()),
            "done": contacted and last["status"] not in ("open", "in_progress"),
            "open": last["status"] in ("open", "in_progress"),
            "revenue": sum(attempts["amount"], Decimal(0)),
            "channel": attempts.iloc[0]["channel"], "account_manager": last["assignee__username"],
            "branch": last["customer__branch__code"]})
    return pd.DataFrame(rows)


def expected_for(tasks: pd.DataFrame, cost_fixed: Decimal, cost_per_contact: Decimal) -> dict:
    customers = per_customer(tasks)
    contacted, converted = int(customers["contacted"].sum()), int(customers["converted"].sum())
    attempts = int(customers["attempts"].sum())
    revenue = sum(customers["revenue"], Decimal(0))
    cost = cost_fixed + cost_per_contact * attempts
    return {
        "tasks": len(customers), "customers": len(customers), "done": int(customers["done"].sum()),
        "open": int(customers["open"].sum()), "contacted": contacted, "attempts": attempts,
        "reached": int(customers["reached"].sum()), "interested": int(customers["interested"].sum()),
        "converted": converted, "revenue": revenue, "cost": cost,
        "success_rate": round(converted / contacted, 4) if contacted else None,
        "contact_rate": round(contacted / len(customers), 4),
        "done_rate": round(int(customers["done"].sum()) / len(customers), 4),
        "roi": round(float((revenue - cost) / cost), 4) if cost else None,
        "revenue_per_contact": (revenue / contacted).quantize(Decimal("0.01")) if contacted else None,
    }


def test_totals_rates_costs_and_roi_match_pandas_per_launched_customer(generated):
    data = frame()
    metrics = campaign_metrics([campaign.pk for campaign in generated])
    for campaign in generated:
        rows = data[data["campaign_id"] == campaign.pk]
        expected = expected_for(rows, campaign.cost_fixed, campaign.cost_per_contact)
        got = metrics[campaign.pk]
        assert {key: got[key] for key in expected} == expected, campaign.name
        # Follow-ups are attempts, not customers: the launched customers are the launch tasks.
        launched = rows[(rows["group"] == "treatment")].drop_duplicates("customer_id")
        assert got["tasks"] == len(launched) < len(rows[rows["group"] == "treatment"]) or campaign != generated[0]


def test_figures_as_of_a_moment_count_only_what_was_logged_before_it(generated):
    """What the weekly review reads: attempts created and outcomes logged before the moment."""
    moment = timezone.now() - timedelta(days=4)  # launch tasks are logged from 5 to 3.5 days ago
    data = frame()
    data = data[data["created_at"] < moment].copy()
    late = data["completed_at"].isna() | (data["completed_at"] >= moment)
    data.loc[late, ["contact_result", "response"]] = ""
    data.loc[late, "amount"] = Decimal(0)
    data.loc[late & (data["status"] == "done"), "status"] = "open"  # not finished yet at that moment
    metrics = campaign_metrics([campaign.pk for campaign in generated], as_of=moment)
    for campaign in generated:
        expected = expected_for(data[data["campaign_id"] == campaign.pk], campaign.cost_fixed,
                                campaign.cost_per_contact)
        got = metrics[campaign.pk]
        assert {key: got[key] for key in expected} == expected, campaign.name
    later = campaign_metrics([generated[0].pk])[generated[0].pk]
    assert later["contacted"] > metrics[generated[0].pk]["contacted"]  # the days since added contacts


def test_breakdowns_match_pandas(generated):
    data = frame()
    campaign = generated[0]
    got = campaign_metrics([campaign.pk])[campaign.pk]
    rows = data[data["campaign_id"] == campaign.pk]
    customers = per_customer(rows)
    for key, label in (("by_channel", "channel"), ("by_account_manager", "account_manager"),
                       ("by_branch", "branch")):
        expected = {}
        for value, group in customers.groupby(label):
            contacted, converted = int(group["contacted"].sum()), int(group["converted"].sum())
            expected[value] = (len(group), contacted, converted, round(converted / contacted, 4) if contacted else None)
        assert {row[label]: (row["tasks"], row["contacted"], row["converted"], row["success_rate"])
                for row in got[key]} == expected, key
    treatment = rows[rows["group"] == "treatment"]
    declined = treatment[treatment["response"].isin(["declined", "not_interested"])]
    assert {row["reason"]: row["count"] for row in got["by_failure_reason"]} == \
        declined["failure_reason"].value_counts().to_dict()
    done = treatment[treatment["completed_at"].notna()].copy()
    # TruncDate takes the calendar day in the current time zone.
    done["day"] = pd.to_datetime(done["completed_at"], utc=True).dt.tz_convert(
        str(timezone.get_current_timezone())).dt.date.astype(str)
    assert {row["day"]: row["outcomes"] for row in got["by_day"]} == done.groupby("day").size().to_dict()


def wilson_by_roots(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson bounds as the roots of (p̂ − p)² = z² p (1 − p) / n, solved by numpy."""
    p_hat = successes / trials
    k = z * z / trials
    roots = sorted(numpy.roots([1 + k, -(2 * p_hat + k), p_hat * p_hat]).real)
    return roots[0], roots[1]


def newcombe_by_hand(x1, n1, x2, n2):
    low1, high1 = wilson_by_roots(x1, n1)
    low2, high2 = wilson_by_roots(x2, n2)
    p1, p2 = x1 / n1, x2 / n2
    return (p1 - p2 - math.hypot(p1 - low1, high2 - p2), p1 - p2 + math.hypot(high1 - p1, p2 - low2))


@pytest.mark.parametrize(("x1", "n1", "x2", "n2", "published"), [
    # Newcombe (1998), Statistics in Medicine 17:873–890, table II, method 10.
    (56, 70, 48, 80, (0.0524, 0.3339)), (9, 10, 3, 10, (0.1705, 0.8090)), (6, 7, 2, 7, (0.0582, 0.8062)),
    (5, 56, 0, 29, (-0.0381, 0.1926)),
])
def test_the_newcombe_interval_matches_the_published_examples(x1, n1, x2, n2, published):
    low, high = newcombe_interval(x1, n1, x2, n2)
    assert (round(low, 4), round(high, 4)) == published
    assert (low, high) == pytest.approx(newcombe_by_hand(x1, n1, x2, n2), abs=1e-9)


def test_uplift_counts_launched_customers_and_only_known_holdout_outcomes(generated):
    data = frame()
    campaign = generated[0]
    control_ids = list(Task.objects.filter(campaign=campaign, group="control").values_list("pk", flat=True))
    known = control_ids[: len(control_ids) // 2]  # the other half stays unknown: left out, not "not converted"
    Task.objects.filter(pk__in=control_ids).update(completed_at=None)
    Task.objects.filter(pk__in=known).update(completed_at=timezone.now())
    rows = data[data["campaign_id"] == campaign.pk]
    customers = per_customer(rows)
    control = rows[rows["id"].isin(known)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("campaigns.analytics.metrics.MIN_UPLIFT_CUSTOMERS", 5)
        got = campaign_metrics([campaign.pk])[campaign.pk]["uplift"]
    x1, n1 = int(customers["converted"].sum()), len(customers)
    x2, n2 = int((control["response"] == "converted").sum()), len(control)
    low, high = newcombe_by_hand(x1, n1, x2, n2)
    assert got["treatment"]["customers"] == n1 and got["control"]["known"] == n2 < got["control"]["customers"]
    assert got["value"] == round(x1 / n1 - x2 / n2, 4) and got["method"] == "newcombe-hybrid-score"
    assert (got["ci_low"], got["ci_high"]) == (round(low, 4), round(high, 4))
    assert got["enough_data"] and got["significant"] == (low > 0 or high < 0)


def test_uplift_says_not_enough_data_below_the_minimum(generated):
    campaign = generated[0]
    Task.objects.filter(campaign=campaign, group="control").update(completed_at=None)
    lift = campaign_metrics([campaign.pk])[campaign.pk]["uplift"]
    assert not lift["enough_data"] and lift["value"] is None and lift["control"]["known"] == 0
    # The audit's case: 0 of 10 holdout conversions is "not enough data", never "+11.5 %, significant".
    few = uplift(treated=87, treated_converted=10, control=10, control_known=10, control_converted=0)
    assert not few["enough_data"] and few["value"] is None and not few["significant"]


def test_uplift_significance_said_plainly():
    strong = uplift(treated=2000, treated_converted=400, control=2000, control_known=2000, control_converted=200)
    weak = uplift(treated=50, treated_converted=6, control=50, control_known=50, control_converted=5)
    assert strong["significant"] and strong["ci_low"] > 0
    assert not weak["significant"] and weak["ci_low"] < 0 < weak["ci_high"]


def test_empty_and_zero_cost_campaigns_raise_no_division_error(db):
    empty = CampaignFactory(status="running", cost_fixed=0, cost_per_contact=0)
    costly = CampaignFactory(status="running", cost_fixed=100, cost_per_contact=0)
    free_with_revenue = CampaignFactory(status="running", cost_fixed=0, cost_per_contact=0)
    TaskFactory(campaign=free_with_revenue, contact_result="reached", response="converted", amount=50, status="done")
    metrics = campaign_metrics([empty.pk, costly.pk, free_with_revenue.pk])
    assert metrics[empty.pk]["tasks"] == 0 and metrics[empty.pk]["success_rate"] is None
    assert metrics[empty.pk]["roi"] is None and metrics[empty.pk]["uplift"]["enough_data"] is False
    # A budget with no contact yet is no result (issue 14: drafts and fresh launches read ROI −100 %).
    assert metrics[costly.pk]["roi"] is None and metrics[costly.pk]["contact_rate"] is None
    contacted = CampaignFactory(status="running", cost_fixed=100, cost_per_contact=0)
    TaskFactory(campaign=contacted, contact_result="reached", response="declined", failure_reason="price", status="done")
    assert campaign_metrics([contacted.pk])[contacted.pk]["roi"] == -1.0  # contacted, nothing earned: −100 %
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


@pytest.mark.django_db(transaction=True)
def test_the_nightly_recompute_on_several_connections_stores_what_one_would(settings):
    """Outside a transaction the campaigns are computed two at a time, each on its own connection."""
    settings.METRICS_RECOMPUTE_CONCURRENCY = 2
    campaigns = [CampaignFactory(status="running", cost_fixed=Decimal("10.00")) for _n in range(5)]
    for number, campaign in enumerate(campaigns):
        for converted in range(number + 1):
            TaskFactory(campaign=campaign, contact_result="reached", status="done",
                        response="converted" if converted % 2 == 0 else "declined", failure_reason="price")
    assert stored.recompute_all_metrics() == 5
    kept = {row.campaign_id: row.data for row in CampaignMetrics.objects.all()}
    live = campaign_metrics([campaign.pk for campaign in campaigns])
    assert {pk: (data["contacted"], data["converted"], data["roi"]) for pk, data in kept.items()} == {
        pk: (data["contacted"], data["converted"], data["roi"]) for pk, data in live.items()}
    assert [kept[campaign.pk]["contacted"] for campaign in campaigns] == [1, 2, 3, 4, 5]
