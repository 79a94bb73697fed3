"""Issue 21: a large segment export is written whole by a job and downloaded when complete; a
failed one says so and keeps no partial file. Small ones still stream at once."""

import csv
import io

import pytest

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
    job = Job.objects.get(kind=exports.EXPORT_KIND)
    assert queued.status_code == 302 and queued["Location"] == f"/segments/exports/{job.pk}/"
    status = client.get(queued["Location"]).content.decode()
    assert "Download the CSV (5 members)" in status
    download = client.get(f"/segments/exports/{job.pk}/download/")
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
        exports.run_segment_export(job_id=str(job.pk))
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "no file was kept" in job.errors[0]["message"]
    assert not exports.export_path(job).exists()


def test_another_managers_export_is_not_found(web_as, mia, segment):
    from tests.factories import UserFactory

    job = exports.queue_segment_export(segment=segment, by=mia, count=5)
    other = web_as(UserFactory(username="otto", role="marketing_manager"))
    assert other.get(f"/segments/exports/{job.pk}/").status_code == 404
    assert other.get(f"/segments/exports/{job.pk}/download/").status_code == 404
