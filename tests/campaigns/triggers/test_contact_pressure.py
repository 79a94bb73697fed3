"""Contact-pressure limits across campaigns and key-event rules: a customer contacted as often as a
limit allows is excluded at launch (reason contact_pressure) and at trigger time, counted across every
campaign; service contacts are exempt where the limit says so; other channels are not counted."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.lifecycle import services as lifecycle
from campaigns.models import Campaign, ContactLimit, Task, TriggerFiring
from campaigns.triggers import services
from tests.campaigns.lifecycle.test_launch import launch
from tests.factories import CampaignFactory, TaskFactory


def test_two_campaigns_and_a_rule_share_one_limit(db, make_vips, mia, alice, api_as,
                                                  django_capture_on_commit_callbacks):
    lifecycle.save_contact_limit(by=mia, channel="", period_days=7, max_contacts=1)
    customers = make_vips(20, owner=alice)
    old = CampaignFactory(status="completed")
    for customer in customers[:3]:  # contacted 10 days ago: outside the 7-day period
        TaskFactory(campaign=old, customer=customer, created_at=timezone.now() - timedelta(days=10))
    first = CampaignFactory(owner=mia, strategy="owner")
    launch(first, mia, django_capture_on_commit_callbacks)
    assert first.task_count == 20 and first.excluded == {}

    newcomers = make_vips(2, owner=alice)
    second = CampaignFactory(owner=mia, strategy="owner")
    plan = api_as(mia).get(f"/api/v1/campaigns/{second.pk}/audience/").json()
    assert plan["excluded"] == {"contact_pressure": 20}
    launch(second, mia, django_capture_on_commit_callbacks)
    assert second.excluded == {"contact_pressure": 20} and second.task_count == 2
    assert set(second.tasks.values_list("customer_id", flat=True)) == {customer.pk for customer in newcomers}

    service = CampaignFactory(owner=mia, strategy="owner", purpose="service")
    launch(service, mia, django_capture_on_commit_callbacks)
    assert service.task_count == 22  # exempt, and not counted against the next

    helping = api_as(mia).post("/api/v1/triggers/", {"name": "Opening help", "event": "login_failed", "service": True},
                               format="json")
    assert helping.status_code == 201 and helping.json()["service"] is True
    rule = services.save_rule(by=mia, name="Login failures", event="login_failed")
    at = (timezone.now() - timedelta(minutes=2)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        api_as(mia).post("/api/v1/events/", {"items": [
            {"id": "e1", "customer": customers[0].external_id, "type": "login_failed", "occurred_at": at}]},
            format="json")
    assert TriggerFiring.objects.get(rule=rule).outcome == TriggerFiring.Outcome.CONTACT_PRESSURE
    assert not Task.objects.filter(trigger=rule).exists()
    service_rule = helping.json()["id"]  # a service rule is exempt: its task is made
    assert TriggerFiring.objects.get(rule_id=service_rule).outcome == TriggerFiring.Outcome.TASK


def test_a_limit_on_one_channel_counts_that_channel_only(db, make_vips, mia, alice,
                                                          django_capture_on_commit_callbacks):
    lifecycle.save_contact_limit(by=mia, channel="sms", period_days=30, max_contacts=2)
    customers = make_vips(6, owner=alice)
    for channel in ("sms", "sms"):
        earlier = CampaignFactory(status="running", channel=channel)
        for customer in customers[:4]:
            TaskFactory(campaign=earlier, customer=customer, channel=channel)
    phone = CampaignFactory(owner=mia, strategy="owner", channel="phone")
    launch(phone, mia, django_capture_on_commit_callbacks)
    assert phone.excluded == {} and phone.task_count == 6
    sms = CampaignFactory(owner=mia, strategy="owner", channel="sms")
    launch(sms, mia, django_capture_on_commit_callbacks)
    assert sms.excluded == {"contact_pressure": 4} and sms.task_count == 2


def test_a_batch_counts_its_own_tasks(db, mia, alice, make_vips, api_as, django_capture_on_commit_callbacks):
    """Two rules firing for one customer in one batch: the first task uses up a limit of one."""
    lifecycle.save_contact_limit(by=mia, channel="", period_days=1, max_contacts=1)
    customer = make_vips(1, owner=alice)[0]
    first = services.save_rule(by=mia, name="A", event="login_failed")
    second = services.save_rule(by=mia, name="B", event="login_failed")
    at = (timezone.now() - timedelta(minutes=2)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        api_as(mia).post("/api/v1/events/", {"items": [
            {"id": "e1", "customer": customer.external_id, "type": "login_failed", "occurred_at": at}]}, format="json")
    outcomes = sorted(TriggerFiring.objects.filter(rule__in=[first, second]).values_list("outcome", flat=True))
    assert outcomes == ["contact_pressure", "task"] and Task.objects.count() == 1


@pytest.mark.parametrize("body, field", [({"channel": "", "period_days": 0, "max_contacts": 1}, "period_days"),
                                         ({"channel": "fax", "period_days": 7, "max_contacts": 1}, "channel"),
                                         ({"channel": "", "period_days": 7, "max_contacts": 0}, "max_contacts")])
def test_a_bad_limit_is_refused_on_the_page(db, web_as, mia, body, field):
    response = web_as(mia).post("/campaigns/contact-limits/", body)
    assert response.status_code == 200 and field in response.context["form"].errors
    assert not ContactLimit.objects.exists()


def test_the_page_adds_changes_and_removes_a_limit(db, web_as, mia):
    web = web_as(mia)
    assert web.post("/campaigns/contact-limits/", {"channel": "", "period_days": 7, "max_contacts": 3,
                                                   "exempt_service": "on"}).status_code == 302
    assert web.post("/campaigns/contact-limits/", {"channel": "", "period_days": 7, "max_contacts": 2}).status_code == 302
    limit = ContactLimit.objects.get()
    assert (limit.max_contacts, limit.exempt_service) == (2, False)
    assert "Contact-pressure limits" in web.get("/campaigns/contact-limits/").content.decode()
    web.post(f"/campaigns/contact-limits/{limit.pk}/delete/")
    assert not ContactLimit.objects.exists() and Campaign.objects.count() == 0
