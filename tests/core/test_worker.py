"""A job really executed by a Celery worker (not eager): Redis in CI, the broker folder locally."""

import time
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery import app
from core import jobs
from core.models import Job
from core.services import create_job


@pytest.fixture
def real_worker(transactional_db):
    """A worker thread on the configured broker; eager mode off while it runs."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        Path(settings.BROKER_DIR, "processed").mkdir(parents=True, exist_ok=True)
        Path(settings.BROKER_DIR, "control").mkdir(parents=True, exist_ok=True)
    app.conf.task_always_eager = False
    if settings.CELERY_BROKER_URL.startswith("redis"):
        with app.connection_for_write() as connection:  # messages left by other runs are not ours
            connection.default_channel.queue_purge("celery")
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.conf.task_always_eager = True


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.worker
def test_a_job_sent_to_the_broker_is_run_by_a_worker(real_worker):
    job = create_job(kind="ping", task="core.jobs.ping")
    jobs.ping.delay(str(job.pk))
    assert wait_for(lambda: Job.objects.get(pk=job.pk).state == Job.State.SUCCEEDED)
    job.refresh_from_db()
    assert job.result == {"pong": True}
    assert job.attempts == 1
