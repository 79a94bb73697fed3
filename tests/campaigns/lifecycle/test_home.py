"""Issue 14: a home for each role — the account manager's queue with what is new since her last
visit; the marketing manager's campaigns in flight and what needs attention."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import TaskReassignment
from core.models import Job
from tests.factories import CampaignFactory, CustomerFactory, TaskFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def test_an_account_manager_lands_on_her_queue_and_sees_what_is_new(web_as, alice, bob, mia):
    running = CampaignFactory(owner=mia, status="running")
    TaskFactory(campaign=running, assignee=alice, customer=CustomerFactory(owner=alice), due_date=TODAY)
    client = web_as(alice)
    assert client.get("/")["Location"] == "/campaigns/my-tasks/"
    first = client.get("/campaigns/my-tasks/").content.decode()
    assert "Welcome: 1 task is waiting for you" in first
    assert "data-new-tasks" not in client.get("/campaigns/my-tasks/").content.decode()  # seen now
    later = CampaignFactory(owner=mia, status="running", name="Autumn bonds")
    for _ in range(2):
        TaskFactory(campaign=later, assignee=alice, customer=CustomerFactory(owner=alice), due_date=TODAY)
    moved = TaskFactory(campaign=running, assignee=alice, customer=CustomerFactory(owner=alice),
                        created_at=timezone.now() - timedelta(days=3))
    TaskReassignment.objects.create(task=moved, from_user=bob, to_user=alice, by=mia)
    page = client.get("/campaigns/my-tasks/").content.decode()
    assert "3 tasks are new since your last visit" in page and "Autumn bonds (2)" in page


def test_a_marketing_manager_lands_on_campaigns_and_what_needs_attention(web_as, mia, alice):
    running = CampaignFactory(owner=mia, status="running", name="Spring funds", launched_at=timezone.now())
    for _ in range(3):
        TaskFactory(campaign=running, assignee=alice, customer=CustomerFactory(owner=alice),
                    due_date=TODAY - timedelta(days=2))
    CampaignFactory(owner=mia, status="scheduled", name="Soon", start_at=timezone.now() + timedelta(hours=3))
    CampaignFactory(owner=mia, status="scheduled", name="Stuck", start_at=timezone.now() - timedelta(hours=1))
    Job.objects.create(kind="import_customers", created_by=mia, state=Job.State.SUCCEEDED,
                       finished_at=timezone.now(), params={"file_name": "leads.csv"}, result={"rejected": 4})
    Job.objects.create(kind="import_customers", created_by=mia, state=Job.State.SUCCEEDED,
                       finished_at=timezone.now(), params={"file_name": "clean.csv"}, result={"rejected": 0})
    page = web_as(mia).get("/").content.decode()
    attention = page.split("data-attention", 1)[1].split("data-running", 1)[0]
    assert "alice has 3 overdue tasks in “Spring funds”" in attention
    assert "“Soon” launches at" in attention and "“Stuck” was due to launch" in attention
    assert "leads.csv rejected 4 rows" in attention and "clean.csv" not in attention
    running_part = page.split("data-running", 1)[1]
    assert 'data-campaign="' + running.slug in running_part


def test_the_manager_home_speaks_chinese(web_as, mia):
    client = web_as(mia)
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get("/").content.decode()
    assert "需要关注" in page and "进行中的活动" in page


def test_a_segment_whose_audience_moved_sharply_is_pointed_out(web_as, mia):
    from segments.models import SegmentCount
    from segments.services import record_segment_counts, save_segment
    from tests.factories import TagFactory

    vip = TagFactory(slug="vip")
    for _ in range(3):
        CustomerFactory(tags=[vip])
    segment = save_segment(name="VIP", text="vip", by=mia)
    save_segment(name="Negative assets", text="assets < 0", by=mia)  # 0 then 0: no movement
    week_ago = TODAY - timedelta(days=7)
    assert record_segment_counts(day=week_ago) == 2
    for _ in range(60):
        CustomerFactory(tags=[vip])  # 3 → 63 VIPs in a week
    assert record_segment_counts() == 2 and SegmentCount.objects.get(segment=segment, day=TODAY).count == 63
    attention = web_as(mia).get("/").content.decode().split("data-attention", 1)[1].split("data-running", 1)[0]
    assert "The audience of “VIP” moved from 3 to 63 customers" in attention
    assert "Negative assets" not in attention
