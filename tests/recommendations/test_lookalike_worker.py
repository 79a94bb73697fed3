"""A lookalike asked for through the API is built by a real Celery worker (not eager), and its job
reports the segment it saved."""

import pytest
from django.db import transaction

from core.models import Job
from segments.models import Segment
from segments.services import save_segment
from tests.core.test_worker import real_worker, wait_for  # noqa: F401 (real_worker is a fixture)
from tests.factories import CustomerFactory, ProductFactory, TagFactory, UserFactory
from tests.recommendations.data import hold


@pytest.mark.worker
def test_the_worker_builds_the_segment(real_worker, api_as):  # noqa: F811
    mia = UserFactory(username="mia", role="marketing_manager")
    vip = TagFactory(slug="vip")
    ProductFactory(code="FUND-A")
    ProductFactory(code="DEP-1", risk_level=1)
    for number in range(120):
        customer = CustomerFactory(tags=[vip] if number < 20 else [], risk_level=4 if number < 50 else 1)
        hold(customer, "FUND-A" if number < 50 else "DEP-1")
    with transaction.atomic():
        seed = save_segment(name="VIP", text="vip", by=mia)
    response = api_as(mia).post("/api/v1/segments/lookalike/", {"seed_segment": seed.pk, "size": 25}, format="json")
    assert response.status_code == 202
    job_id = response.json()["job"]
    assert wait_for(lambda: Job.objects.get(pk=job_id).is_finished, timeout=60)
    job = Job.objects.get(pk=job_id)
    assert job.state == Job.State.SUCCEEDED, job.errors
    segment = Segment.objects.get(pk=job.result["segment"])
    assert segment.snapshot_count == 25 and segment.origin["job"] == job_id
    assert api_as(mia).get(f"/api/v1/jobs/{job_id}/").json()["result"]["segment"] == segment.pk
