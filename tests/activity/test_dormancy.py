"""The dormant share on the dashboard: recorded per day (the weeks before the first recording from the
transactions), equal to a direct count over the same customers and transactions — customers imported
today count from their first transaction — against the goal the team sets."""

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from activity.models import DormancyGoal, DormancySnapshot, Transaction
from activity.selectors import dormancy_trend
from activity.services import record_dormancy, set_dormancy_goal
from customers.models import Customer
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_recorded_shares_equal_a_direct_count():
    rng = random.Random(4)
    zone = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localdate()
    fund = ProductFactory(code="FUND-A")
    history = {}
    for number in range(60):
        created = today - timedelta(days=rng.randrange(0, 600))
        customer = CustomerFactory()
        Customer.objects.filter(pk=customer.pk).update(created_at=datetime.combine(created, time(10), tzinfo=zone))
        days = sorted({today - timedelta(days=rng.randrange(0, 500)) for _ in range(rng.randrange(0, 4))})
        if number % 3:  # a third imported today with their past transactions; the rest transact after joining
            days = [day for day in days if day >= created]
        else:
            created = today
            Customer.objects.filter(pk=customer.pk).update(created_at=timezone.now())
        history[customer.pk] = (min([created, *days]), days)
        for index, day in enumerate(days):
            Transaction.objects.create(external_id=f"t{customer.pk}-{index}", customer=customer, product=fund,
                                       kind="buy", amount=100, occurred_at=datetime.combine(day, time(11), tzinfo=zone),
                                       occurred_on=day)
    assert record_dormancy(weeks_back=12) == 13
    assert record_dormancy(weeks_back=12) == 1  # only the day itself again
    for snapshot in DormancySnapshot.objects.all():
        day, window = snapshot.day, snapshot.dormant_days
        on_file = [pk for pk, (since, _days) in history.items() if since <= day]
        dormant = [pk for pk in on_file if history[pk][0] <= day - timedelta(days=window)
                   and not any(day - timedelta(days=window) < each <= day for each in history[pk][1])]
        assert (snapshot.customers, snapshot.dormant) == (len(on_file), len(dormant)), day
    assert DormancySnapshot.objects.filter(dormant_days=180).count() == 13
    assert any(snapshot.dormant for snapshot in DormancySnapshot.objects.all())


def test_the_goal_and_its_history(web_as, mia, django_capture_on_commit_callbacks):
    CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = web_as(mia).post("/campaigns/reports/dormancy-goal/", {"target_percent": "20",
                                                                          "dormant_days": "90"})
    assert response.status_code == 302
    goal = DormancyGoal.objects.get()
    assert (float(goal.target_share), goal.dormant_days, goal.by) == (0.2, 90, mia)
    trend = dormancy_trend()
    assert trend["days"] == 90 and trend["target"] == 0.2 and trend["latest"] is not None
    page = web_as(mia).get("/campaigns/reports/").content.decode()
    assert "data-dormant-share" in page and "Goal: 20" in page
    set_dormancy_goal(by=mia, target_share=0.25, dormant_days=90)
    assert DormancyGoal.objects.count() == 2 and float(DormancyGoal.objects.first().target_share) == 0.25


@pytest.mark.parametrize("body", [{"target_percent": "x", "dormant_days": "90"},
                                  {"target_percent": "120", "dormant_days": "90"},
                                  {"target_percent": "20", "dormant_days": "5"}])
def test_a_bad_goal_changes_nothing(web_as, mia, body):
    response = web_as(mia).post("/campaigns/reports/dormancy-goal/", body, follow=True)
    assert response.status_code == 200 and not DormancyGoal.objects.exists()
    assert list(response.context["messages"])[0].level_tag == "error"
