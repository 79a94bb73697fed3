"""A worker killed in the middle of a launch or an import (SIGKILL, Redis broker, acks_late): the
message is delivered again to the next worker, and the result is complete and not duplicated.

Real processes: Celery workers run as subprocesses against Redis and the test's PostgreSQL
database. The first worker is told (LOOPCRM_FAULT_PAUSE_IN_TRANSACTION_S) to pause inside the
transaction after writing, and is killed there.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from campaigns.lifecycle import services as campaign_services
from campaigns.models import Campaign, Task
from config.celery import app
from core.models import Job
from customers.import_jobs import queue_import_of_path
from customers.models import Customer
from tests.factories import CampaignFactory, CustomerFactory, TagFactory

ROOT = Path(__file__).resolve().parents[2]
VISIBILITY_S = 4

pytestmark = [
    pytest.mark.worker, pytest.mark.django_db(transaction=True),
    pytest.mark.skipif("not settings.CELERY_BROKER_URL.startswith('redis') or connection.vendor != 'postgresql'",
                       reason="needs Redis (redelivery) and PostgreSQL (a database a subprocess can open)"),
]


def start_worker(*, pause_s: float = 0) -> subprocess.Popen:
    database = connection.settings_dict
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings",
           "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
           "CELERY_VISIBILITY_TIMEOUT_S": str(VISIBILITY_S),
           "CELERY_UNACKED_RESTORE_INTERVAL_S": "1", "LOOPCRM_FAULT_PAUSE_IN_TRANSACTION_S": str(pause_s),
           "LOOPCRM_VAR_DIR": str(Path(settings.MEDIA_ROOT).parent)}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=WARNING",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def kill(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def publish_to_redis():
    app.conf.task_always_eager = False
    app._pool = None
    app.amqp._producer_pool = None
    with app.connection_for_write() as conn:  # nothing left over from earlier tests in the queue
        conn.default_channel.queue_purge("celery")
    yield
    app.conf.task_always_eager = True


def test_launch_killed_mid_transaction_is_redelivered_and_complete_once(publish_to_redis, mia, alice):
    vip = TagFactory(slug="vip")
    for _number in range(40):
        CustomerFactory(owner=alice, tags=[vip])
    campaign = CampaignFactory(owner=mia, holdout_pct=10)
    first = start_worker(pause_s=60)
    second = None
    try:
        job = campaign_services.queue_launch(campaign=campaign, by=mia)  # committed: enqueued at once
        assert wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.State.RUNNING, 30), "worker never started"
        time.sleep(1.5)  # inside the paused transaction, tasks written but not committed
        assert Task.objects.filter(campaign=campaign).count() == 0
        kill(first)
        second = start_worker()
        assert wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.State.SUCCEEDED, 60), "not redelivered"
    finally:
        for worker in (first, second):
            if worker and worker.poll() is None:
                kill(worker)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    assert Task.objects.filter(campaign=campaign).count() == 40  # every customer once: no duplicate, no gap
    assert Job.objects.get(pk=job.pk).attempts == 2


def test_import_killed_mid_transaction_is_redelivered_and_complete_once(publish_to_redis, tmp_path, mia):
    path = tmp_path / "people.csv"
    path.write_text("external_id,name,tags\n" + "".join(f"K{n},Person {n},vip|new\n" for n in range(200)))
    first = start_worker(pause_s=60)
    second = None
    try:
        job = queue_import_of_path(path=path, by=mia)
        assert wait_for(lambda: Job.objects.get(pk=job.pk).stage == "Writing customers", 30), "worker never started"
        time.sleep(1.5)
        assert Customer.objects.filter(external_id__startswith="K").count() == 0
        kill(first)
        second = start_worker()
        assert wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.State.SUCCEEDED, 60), "not redelivered"
    finally:
        for worker in (first, second):
            if worker and worker.poll() is None:
                kill(worker)
    job = Job.objects.get(pk=job.pk)
    assert job.result["created"] == 200 and Customer.objects.filter(external_id__startswith="K").count() == 200


def test_activity_import_killed_mid_batch_is_redelivered_and_complete_once(publish_to_redis, tmp_path, mia):
    from activity.models import Event
    from activity.services import queue_import_of_path as queue_activity_import

    CustomerFactory(external_id="ev-customer")
    path = tmp_path / "events.csv"
    path.write_text("external_id,customer_external_id,type,occurred_at\n"
                    + "".join(f"EV{n},ev-customer,login,2026-11-20 10:00\n" for n in range(300)))
    first = start_worker(pause_s=60)
    second = None
    try:
        job = queue_activity_import(path=path, kind="events", by=mia)
        assert wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.State.RUNNING, 30), "worker never started"
        time.sleep(3)  # inside the paused transaction: the events are written but not committed
        assert Event.objects.count() == 0
        kill(first)
        second = start_worker()
        assert wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.State.SUCCEEDED, 60), "not redelivered"
    finally:
        for worker in (first, second):
            if worker and worker.poll() is None:
                kill(worker)
    job = Job.objects.get(pk=job.pk)
    assert job.result["accepted"] == 300 and job.result["duplicates"] == 0
    assert Event.objects.filter(external_id__startswith="EV").count() == 300  # none lost, none twice
