"""Issue 21: a large export (a segment's members, the customer list, a campaign's tasks) is written
whole by a job and downloaded when complete; a failed one says so and keeps no partial file. Small
ones still stream at once."""

import csv
import io

import pytest

from core import export_jobs
from core.models import Job
from segments import exports
from segments.services import save_segment
from tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def segment(mia):
    vip = TagFactory(slug="vip")
    for number in range(5):
        CustomerFactory(external_id=f"V{number}", name="=cmd()" if number == 0 else f"Customer {number}", tags=[vip])
    return save_segment(name="VIP", text="vip", by=mia)


def test_a_small_export_streams_at_once(web_as, mia, segment):
    answer = web_as(mia).get(f"/segments/{segment.pk}/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 6 and rows[1][1] == "'=cmd()"  # formula-safe


def test_a_large_export_is_a_job_whose_file_is_complete(web_as, mia, segment, settings,
                                                         django_capture_on_commit_callbacks):
    settings.EXPORT_INLINE_MAX_ROWS = 2
    client = web_as(mia)
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.get(f"/segments/{segment.pk}/export.csv")
    job = Job.objects.get(kind=export_jobs.EXPORT_KIND)
    assert queued.status_code == 302 and queued["Location"] == f"/exports/{job.pk}/"
    status = client.get(queued["Location"]).content.decode()
    assert f"Download segment-{segment.pk}.csv (5 rows)" in status
    download = client.get(f"/exports/{job.pk}/download/")
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 6 and {row[0] for row in rows[1:]} == {f"V{number}" for number in range(5)}
    assert job.created_by == mia


def test_a_failed_export_says_so_and_keeps_no_partial_file(mia, segment, monkeypatch):
    job = exports.queue_segment_export(segment=segment, by=mia, count=5)

    def broken(bitmap):
        yield ["V0", "x", "", "", "", "", 1, "new"]
        raise RuntimeError("database went away")

    monkeypatch.setattr(exports, "member_rows", broken)
    with pytest.raises(RuntimeError):
        export_jobs.run_export(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "no file was kept" in job.errors[0]["message"]
    assert not export_jobs.export_path(job).exists()


def test_another_managers_export_is_not_found(web_as, mia, segment):
    from tests.factories import UserFactory

    job = exports.queue_segment_export(segment=segment, by=mia, count=5)
    other = web_as(UserFactory(username="otto", role="marketing_manager"))
    assert other.get(f"/exports/{job.pk}/").status_code == 404
    assert other.get(f"/exports/{job.pk}/download/").status_code == 404


def _download(client, location):
    assert location.startswith("/exports/"), location
    answer = client.get(location + "download/")
    assert answer.status_code == 200, answer.content
    return b"".join(answer.streaming_content)


def test_a_large_customer_export_is_a_job_with_the_users_own_rows(web_as, alice, bob, settings,
                                                                  django_capture_on_commit_callbacks):
    settings.EXPORT_INLINE_MAX_ROWS = 2
    vip = TagFactory(slug="vip")
    for number in range(4):
        CustomerFactory(external_id=f"A{number}", owner=alice, tags=[vip] if number != 3 else [])
    CustomerFactory(external_id="B0", owner=bob, tags=[vip])
    client = web_as(alice)
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.get("/customers/export/?tag=vip")
    rows = list(csv.reader(io.StringIO(_download(client, queued["Location"]).decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == ["A0", "A1", "A2"]  # hers, tagged, whole; not bob's
    assert web_as(bob).get(queued["Location"]).status_code == 404


def test_a_large_customer_workbook_is_a_job_too(web_as, mia, settings, django_capture_on_commit_callbacks):
    from openpyxl import load_workbook

    settings.EXPORT_INLINE_MAX_ROWS = 2
    for number in range(3):
        CustomerFactory(external_id=f"X{number}", name="=HYPERLINK()" if number == 0 else "Li")
    client = web_as(mia)
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.get("/customers/export/?format=xlsx")
    sheet = load_workbook(io.BytesIO(_download(client, queued["Location"]))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert [row[0] for row in values[1:]] == ["X0", "X1", "X2"] and values[1][1] == "'=HYPERLINK()"


def test_a_large_task_export_is_a_job(web_as, mia, settings, django_capture_on_commit_callbacks):
    from tests.factories import CampaignFactory, TaskFactory

    settings.EXPORT_INLINE_MAX_ROWS = 2
    campaign = CampaignFactory()
    for number in range(3):
        TaskFactory(campaign=campaign, customer=CustomerFactory(external_id=f"T{number}"))
    client = web_as(mia)
    with django_capture_on_commit_callbacks(execute=True):
        queued = client.get(f"/campaigns/{campaign.pk}/tasks.csv")
    rows = list(csv.reader(io.StringIO(_download(client, queued["Location"]).decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["T0", "T1", "T2"]
