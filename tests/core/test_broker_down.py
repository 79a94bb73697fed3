"""The broker is down: pages keep working, new jobs are accepted and shown as delayed, and they are
sent (and run) once it is back. No mock: the broker URL points at a port where nothing listens."""

import io

import pytest
from celery import current_app

from core.models import Job
from core.services import requeue_unsent_jobs
from tests.factories import CampaignFactory, CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_down():
    conf = current_app.conf
    saved = {key: conf[key] for key in ("broker_write_url", "task_always_eager", "task_publish_retry")}
    # Publishing uses broker_write_url (Celery derives it from CELERY_BROKER_URL at start).
    conf.update(broker_write_url="redis://127.0.0.1:9/0", task_always_eager=False, task_publish_retry=False)
    _forget_connections()  # the producer pools were made for the old URL (if any)
    yield
    conf.update(saved)
    _forget_connections()


def _forget_connections():
    current_app._pool = None
    current_app.amqp._producer_pool = None


def test_import_is_accepted_and_says_it_is_delayed(api_as, web_as, mia, broker_down, django_capture_on_commit_callbacks):
    upload = io.BytesIO(b"external_id,name\nX1,Ann\n")
    upload.name = "people.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(mia).post("/api/v1/customers/import/", {"file": upload}, format="multipart")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job"])
    assert job.state == "pending" and job.params["unsent"] and "Delayed" in job.stage
    page = web_as(mia).get(f"/customers/import/{job.pk}/")
    assert page.status_code == 200 and "Delayed" in page.content.decode()
    assert web_as(mia).get("/customers/").status_code == 200  # the rest of the UI works


def test_launch_is_accepted_while_the_broker_is_down_and_runs_when_it_is_back(
        mia, alice, broker_down, django_capture_on_commit_callbacks, web_as):
    vip = TagFactory(slug="vip")
    for _number in range(3):
        CustomerFactory(owner=alice, tags=[vip])
    campaign = CampaignFactory(owner=mia)
    with django_capture_on_commit_callbacks(execute=True):
        web_as(mia).post(f"/campaigns/{campaign.pk}/launch/")
    campaign.refresh_from_db()
    assert campaign.status == "draft" and campaign.launch_job.state == "pending"
    assert "Delayed" in web_as(mia).get(f"/campaigns/{campaign.pk}/").content.decode()

    current_app.conf.update(task_always_eager=True)  # the broker is back (eager: runs here)
    assert requeue_unsent_jobs() == 1
    campaign.refresh_from_db()
    assert campaign.status == "running" and campaign.tasks.count() == 3
    assert requeue_unsent_jobs() == 0  # sent once


def test_a_metrics_refresh_the_broker_refused_is_sent_by_the_next_outcome(alice, broker_down,
                                                                          django_capture_on_commit_callbacks):
    from campaigns.models import CampaignMetrics
    from campaigns.workspace.services import log_outcome
    from tests.factories import TaskFactory

    campaign = CampaignFactory(status="running")
    first, second = TaskFactory(campaign=campaign, assignee=alice), TaskFactory(campaign=campaign, assignee=alice)
    with django_capture_on_commit_callbacks(execute=True):
        log_outcome(task=first, by=alice, version=1, contact_result="reached", response="converted", amount=10)
    row = CampaignMetrics.objects.get(campaign=campaign)
    assert row.queued_at is None and row.computed_at is None  # nothing reached a worker

    current_app.conf.update(task_always_eager=True)  # the broker is back (eager: runs here)
    with django_capture_on_commit_callbacks(execute=True):
        log_outcome(task=second, by=alice, version=1, contact_result="unreachable")
    row.refresh_from_db()
    assert row.computed_at is not None and row.data["contacted"] == 2 and row.data["converted"] == 1
