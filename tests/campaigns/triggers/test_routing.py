"""Capacity-aware routing of key-event tasks: the owner while present and under capacity; else the
branch colleague with the most capacity left; else the branch pool, from which one account manager
takes the task; inactive and absent users are never chosen."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.errors import CampaignError
from campaigns.models import Task, TriggerFiring
from campaigns.triggers import services
from campaigns.workspace.services import take_from_pool
from tests.factories import CustomerFactory, UserFactory

Outcome = TriggerFiring.Outcome


@pytest.fixture
def rule(mia):
    return services.save_rule(by=mia, name="Opening failed", event="account_opening_failed")


def fire(api_as, mia, capture, customers, prefix="e"):
    at = (timezone.now() - timedelta(minutes=1)).isoformat()
    with capture(execute=True):
        response = api_as(mia).post("/api/v1/events/", {"items": [
            {"id": f"{prefix}{n}", "customer": customer.external_id, "type": "account_opening_failed", "occurred_at": at}
            for n, customer in enumerate(customers)]}, format="json")
    assert response.status_code == 202


def test_overflow_goes_to_colleagues_by_capacity_left_then_to_the_pool(db, rule, mia, api_as, shenzhen,
                                                                       django_capture_on_commit_callbacks):
    owner = UserFactory(username="owner", role="account_manager", branch=shenzhen, daily_capacity=2)
    UserFactory(username="roomy", role="account_manager", branch=shenzhen, daily_capacity=4)
    UserFactory(username="tight", role="account_manager", branch=shenzhen, daily_capacity=1)
    UserFactory(username="away", role="account_manager", branch=shenzhen, away_until=timezone.localdate())
    UserFactory(username="gone", role="account_manager", branch=shenzhen, is_active=False)
    customers = [CustomerFactory(owner=owner, branch=shenzhen) for _ in range(9)]
    fire(api_as, mia, django_capture_on_commit_callbacks, customers)
    by_assignee = {}
    for task in Task.objects.filter(trigger=rule).select_related("assignee"):
        name = task.assignee.username if task.assignee else None
        by_assignee[name] = by_assignee.get(name, 0) + 1
    # The owner takes 2 (capacity), then the least used share of capacity first: roomy 4, tight 1; 2 pooled.
    assert by_assignee == {"owner": 2, "roomy": 4, "tight": 1, None: 2}


def test_an_absent_owner_is_passed_by(db, rule, mia, api_as, shenzhen, django_capture_on_commit_callbacks):
    owner = UserFactory(username="owner", role="account_manager", branch=shenzhen,
                        away_until=timezone.localdate() + timedelta(days=3))
    colleague = UserFactory(username="colleague", role="account_manager", branch=shenzhen)
    fire(api_as, mia, django_capture_on_commit_callbacks, [CustomerFactory(owner=owner, branch=shenzhen)])
    assert Task.objects.get(trigger=rule).assignee == colleague


def test_a_pooled_task_is_taken_once(db, rule, mia, api_as, shenzhen, shanghai, web_as,
                                     django_capture_on_commit_callbacks):
    full = UserFactory(username="full", role="account_manager", branch=shenzhen, daily_capacity=1)
    first = UserFactory(username="first", role="account_manager", branch=shenzhen, away_until=timezone.localdate())
    elsewhere = UserFactory(username="elsewhere", role="account_manager", branch=shanghai)
    fire(api_as, mia, django_capture_on_commit_callbacks, [CustomerFactory(owner=full, branch=shenzhen),
                                                           CustomerFactory(owner=full, branch=shenzhen)])
    pooled = Task.objects.get(trigger=rule, assignee__isnull=True)
    first.away_until = None
    first.save()
    assert "data-pool" in web_as(first).get("/campaigns/pool/").content.decode()
    assert "data-pool" not in web_as(elsewhere).get("/campaigns/pool/").content.decode()
    assert web_as(elsewhere).post(f"/campaigns/pool/{pooled.pk}/take/").status_code == 404
    assert web_as(first).post(f"/campaigns/pool/{pooled.pk}/take/").status_code == 302
    assert Task.objects.get(pk=pooled.pk).assignee == first
    with pytest.raises(CampaignError):
        take_from_pool(task_id=pooled.pk, user=full)


def test_a_customer_without_a_branch_or_manager_is_counted(db, rule, mia, api_as,
                                                          django_capture_on_commit_callbacks):
    fire(api_as, mia, django_capture_on_commit_callbacks, [CustomerFactory(owner=None, branch=None)])
    assert TriggerFiring.objects.get().outcome == Outcome.NO_ACCOUNT_MANAGER and not Task.objects.exists()


def test_the_load_page_shows_and_sets_capacity(db, web_as, mia, alice):
    page = web_as(mia).get("/campaigns/load/").content.decode()
    assert 'data-user="alice"' in page and "taking tasks" in page
    response = web_as(mia).post("/campaigns/load/", {"user": alice.pk, "daily_capacity": 5,
                                                     "away_until": str(timezone.localdate())})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.daily_capacity, alice.away_until) == (5, timezone.localdate())
    assert "away" in web_as(mia).get("/campaigns/load/").content.decode()
    bad = web_as(mia).post("/campaigns/load/", {"user": alice.pk, "daily_capacity": 0}, follow=True)
    assert "Tasks per day" in bad.content.decode()
    alice.refresh_from_db()
    assert alice.daily_capacity == 5


def test_a_launch_deals_nothing_to_an_absent_manager(db, make_vips, mia, alice, bob,
                                                     django_capture_on_commit_callbacks):
    from tests.campaigns.lifecycle.test_launch import launch
    from tests.factories import CampaignFactory

    make_vips(10)
    bob.away_until = timezone.localdate()
    bob.save()
    campaign = CampaignFactory(owner=mia, strategy="round_robin")
    campaign.account_managers.set([alice, bob])
    launch(campaign, mia, django_capture_on_commit_callbacks)
    assert set(campaign.tasks.filter(group="treatment").values_list("assignee__username", flat=True)) == {"alice"}
