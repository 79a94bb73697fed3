"""Campaign pages: create with live audience, launch confirmation, detail, tasks and reassignment."""

import pytest

from campaigns.models import Campaign, Task
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {"name": "Recall dormant", "channel": "phone", "priority": 2, "text": "vip", "holdout_pct": "10",
            "holdout_seed": "42", "strategy": "owner", "frequency_cap_days": "0", "cost_fixed": "100",
            "cost_per_contact": "1.5"}
    data.update(overrides)
    return data


def test_manager_creates_a_campaign_from_the_form(web_as, mia, vip):
    client = web_as(mia)
    assert client.get("/campaigns/new/").status_code == 200
    response = client.post("/campaigns/new/", form_data())
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/campaigns/{campaign.pk}/"
    assert (campaign.text, campaign.owner, campaign.status) == ("vip", mia, "draft")
    assert list(campaign.transitions.values_list("to_status", flat=True)) == ["draft"]


def test_form_errors_are_shown_and_nothing_is_saved(web_as, mia, vip):
    response = web_as(mia).post("/campaigns/new/", form_data(text="vip AND (", strategy="round_robin"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "account managers to share" in body and "at character" in body
    assert not Campaign.objects.exists()


def test_live_audience_estimate_counts_exclusions(web_as, mia, alice, make_vips):
    make_vips(12, owner=alice)
    make_vips(3, owner=alice, opted_out_channels=["phone"])
    response = web_as(mia).post("/campaigns/audience/", form_data(holdout_pct="0"))
    body = response.content.decode()
    assert 'data-audience>15<' in body and 'data-tasks>12<' in body and "Opted out" in body


def test_live_audience_estimate_reports_a_bad_expression(web_as, mia, vip):
    body = web_as(mia).post("/campaigns/audience/", form_data(text="vip AND nosuch")).content.decode()
    assert "nosuch" in body and "errors" in body


def test_launch_confirmation_then_launch(web_as, mia, alice, make_vips, django_capture_on_commit_callbacks):
    make_vips(20, owner=alice)
    campaign = CampaignFactory(owner=mia, holdout_pct=0)
    client = web_as(mia)
    confirm = client.get(f"/campaigns/{campaign.pk}/launch/").content.decode()
    assert "data-final-tasks>20<" in confirm
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/campaigns/{campaign.pk}/launch/")
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "running" and Task.objects.filter(campaign=campaign).count() == 20
    detail = client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "alice" in detail and "Succeeded" in detail
    listing = client.get("/campaigns/").content.decode()
    assert campaign.name in listing


def test_launch_page_explains_an_empty_audience(web_as, mia, vip):
    campaign = CampaignFactory(owner=mia)
    body = web_as(mia).get(f"/campaigns/{campaign.pk}/launch/").content.decode()
    assert "audience is empty" in body and "data-confirm-launch" not in body


def test_reassign_from_the_tasks_page(web_as, mia, alice, bob, make_vips, django_capture_on_commit_callbacks):
    make_vips(5, owner=alice)
    campaign = CampaignFactory(owner=mia)
    with django_capture_on_commit_callbacks(execute=True):
        web_as(mia).post(f"/campaigns/{campaign.pk}/launch/")
    ids = list(campaign.tasks.values_list("pk", flat=True)[:2])
    client = web_as(mia)
    assert "Reassign" in client.get(f"/campaigns/{campaign.pk}/tasks/").content.decode()
    client.post(f"/campaigns/{campaign.pk}/tasks/", {"to": "bob", "selected": ids})
    assert set(Task.objects.filter(pk__in=ids).values_list("assignee__username", flat=True)) == {"bob"}
    client.post(f"/campaigns/{campaign.pk}/tasks/?assignee=alice", {"to": "bob", "all_matching": "on"})
    assert not campaign.tasks.filter(assignee=alice).exists()
    export = client.get(f"/campaigns/{campaign.pk}/tasks.csv")
    assert export.status_code == 200 and b"bob" in b"".join(export.streaming_content)


def test_cancel_from_the_detail_page(web_as, mia, vip):
    campaign = CampaignFactory(owner=mia)
    web_as(mia).post(f"/campaigns/{campaign.pk}/cancel/")
    campaign.refresh_from_db()
    assert campaign.status == "cancelled"


@pytest.mark.parametrize("path", ["/campaigns/", "/campaigns/new/", "/campaigns/{pk}/", "/campaigns/{pk}/launch/",
                                  "/campaigns/{pk}/tasks/", "/campaigns/{pk}/tasks.csv"])
def test_account_managers_cannot_open_campaign_pages(web_as, alice, mia, vip, path):
    campaign = CampaignFactory(owner=mia)
    assert web_as(alice).get(path.format(pk=campaign.pk)).status_code == 403


def test_tag_results_on_demand_from_the_detail_page(web_as, mia, alice, make_vips, django_capture_on_commit_callbacks):
    make_vips(3, owner=alice)
    campaign = CampaignFactory(owner=mia, slug="recall", holdout_pct=0)
    with django_capture_on_commit_callbacks(execute=True):
        web_as(mia).post(f"/campaigns/{campaign.pk}/launch/")
    Task.objects.filter(pk=campaign.tasks.first().pk).update(contact_result="reached", response="converted",
                                                             status="done")
    web_as(mia).post(f"/campaigns/{campaign.pk}/tag-results/")
    from customers.models import CustomerTag

    assert CustomerTag.objects.filter(tag__slug="recall-converted").count() == 1
    body = web_as(mia).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Uplift vs holdout" in body and "no holdout" in body


def test_the_form_refuses_an_end_date_before_the_start_like_the_api(web_as, api_as, mia, vip):
    dates = {"start_at": "2031-05-10T09:00", "end_date": "2031-05-01"}
    response = web_as(mia).post("/campaigns/new/", form_data(**dates))
    assert response.status_code == 200 and "The end date is before the start." in response.content.decode()
    api = api_as(mia).post("/api/v1/campaigns/", {"name": "Recall", "channel": "phone", "text": "vip",
                                                   "start_at": "2031-05-10T09:00:00+08:00", "end_date": "2031-05-01"},
                           format="json")
    assert api.status_code == 400 and api.json()["end_date"] == ["The end date is before the start."]
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_the_campaign_page_shows_the_actual_holdout_share_and_an_estimate_labelled_so(web_as, mia, alice):
    """Issue 14: the expected value per conversion was asked for and never used; the holdout % asked
    for was shown without what was actually kept out."""
    from django.utils import timezone

    from tests.factories import CampaignFactory, CustomerFactory, TaskFactory

    campaign = CampaignFactory(owner=mia, status="running", holdout_pct=10, value_per_conversion=450, cost_fixed=1000,
                               task_count=9, launched_at=timezone.now())
    for number in range(9):
        TaskFactory(campaign=campaign, assignee=alice, customer=CustomerFactory(owner=alice),
                    status="done" if number < 3 else "open", contact_result="reached" if number < 3 else "",
                    response="converted" if number < 2 else ("declined" if number == 2 else ""),
                    failure_reason="price" if number == 2 else "")
    TaskFactory(campaign=campaign, customer=CustomerFactory(), group="control")
    page = web_as(mia).get(f"/campaigns/{campaign.pk}/").content.decode()
    holdout = page.split("data-holdout>", 1)[1][:120]
    assert "10.00 % asked, 10.0 % kept out" in holdout
    estimate = page.split("data-estimate>", 1)[1][:400]
    assert "2 conversions × 450.00 expected = 900.00" in estimate and "-10 %" in estimate and "an estimate" in estimate
