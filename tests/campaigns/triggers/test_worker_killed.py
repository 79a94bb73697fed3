"""A worker killed while acting on events (SIGKILL inside the transaction that makes the tasks): the
message is delivered again and every event makes its task once — none lost, none twice."""

import time
from datetime import timedelta

import pytest
from django.conf import settings  # noqa: F401 (read by the skipif condition)
from django.db import connection  # noqa: F401 (read by the skipif condition)
from django.utils import timezone

from campaigns.models import PendingTriggerEvent, Task
from campaigns.triggers import services
from tests.core.test_worker_killed import kill, publish_to_redis, start_worker, wait_for  # noqa: F401
from tests.factories import CustomerFactory

pytestmark = [
    pytest.mark.worker, pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("not settings.CELERY_BROKER_URL.startswith('redis') or connection.vendor != 'postgresql'",
                       reason="needs Redis (redelivery) and PostgreSQL (a database a subprocess can open)"),
]


def test_events_acted_on_once_after_the_worker_is_killed(publish_to_redis, api_as, mia, alice,  # noqa: F811
                                                         monkeypatch):
    monkeypatch.setenv("CONTACT_QUIET_HOURS", "")  # the workers' settings: tasks now, whatever the hour
    rule = services.save_rule(by=mia, name="Opening failed", event="account_opening_failed")
    customers = [CustomerFactory(owner=alice) for _ in range(40)]
    at = (timezone.now() - timedelta(minutes=1)).isoformat()
    items = [{"id": f"e{n}", "customer": customer.external_id, "type": "account_opening_failed", "occurred_at": at}
             for n, customer in enumerate(customers)]
    first = start_worker(pause_s=60)
    second = None
    try:
        assert api_as(mia).post("/api/v1/events/", {"items": items}, format="json").status_code == 202
        assert PendingTriggerEvent.objects.count() == 40
        time.sleep(6)  # the worker is paused inside its transaction: tasks written, not committed
        assert Task.objects.filter(trigger=rule).count() == 0
        kill(first)
        second = start_worker()
        assert wait_for(lambda: Task.objects.filter(trigger=rule).count() >= 40, 60), "not redelivered"
        time.sleep(2)
    finally:
        for worker in (first, second):
            if worker and worker.poll() is None:
                kill(worker)
    assert sorted(Task.objects.filter(trigger=rule).values_list("customer_id", flat=True)) == sorted(
        customer.pk for customer in customers)
    assert not PendingTriggerEvent.objects.exists()
