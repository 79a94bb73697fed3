"""Events through the API, acted on by a real Celery worker (not eager): the task is in the owner's
queue within seconds of the acknowledgement."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Task
from campaigns.triggers import services
from tests.core.test_worker import real_worker, wait_for  # noqa: F401 (real_worker is a fixture)
from tests.factories import CustomerFactory, UserFactory


@pytest.mark.worker
def test_the_worker_makes_the_tasks(real_worker, api_as):  # noqa: F811
    mia = UserFactory(username="mia", role="marketing_manager")
    alice = UserFactory(username="alice", role="account_manager")
    rule = services.save_rule(by=mia, name="Opening failed", event="account_opening_failed")
    customers = [CustomerFactory(owner=alice) for _ in range(30)]
    at = (timezone.now() - timedelta(minutes=1)).isoformat()
    items = [{"id": f"e{n}", "customer": customer.external_id, "type": "account_opening_failed", "occurred_at": at}
             for n, customer in enumerate(customers)]
    started = time.monotonic()
    response = api_as(mia).post("/api/v1/events/", {"items": items + items[:5]}, format="json")
    assert response.status_code == 202 and response.json()["accepted"] == 30
    assert wait_for(lambda: Task.objects.filter(trigger=rule).count() == 30, timeout=30)
    assert time.monotonic() - started < 30
    mine = api_as(alice).get(f"/api/v1/tasks/?trigger={rule.pk}&page_size=100").json()
    assert mine["count"] == 30 and {row["event"] for row in mine["results"]} == {f"e{n}" for n in range(30)}
