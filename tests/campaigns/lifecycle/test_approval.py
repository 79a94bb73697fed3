"""Maker–checker (CAMPAIGN_APPROVAL_REQUIRED): a campaign launches or is scheduled only once a
marketing manager other than its owner approved it; a changed launch setting withdraws the approval;
both are recorded."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from campaigns.errors import CampaignError
from campaigns.lifecycle import services
from campaigns.models import Campaign, CampaignSettingChange
from tests.campaigns.lifecycle.test_launch import launch
from tests.factories import CampaignFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("approval_on")]


@pytest.fixture
def approval_on():
    with override_settings(CAMPAIGN_APPROVAL_REQUIRED=True):
        yield


@pytest.fixture
def checker(db):
    return UserFactory(username="chen", role="marketing_manager")


def test_launch_is_refused_until_a_second_manager_approves(make_vips, mia, alice, checker,
                                                           django_capture_on_commit_callbacks):
    make_vips(5, owner=alice)
    campaign = CampaignFactory(owner=mia, strategy="owner")
    with pytest.raises(CampaignError, match="approval"):
        services.queue_launch(campaign=campaign, by=mia)
    with pytest.raises(CampaignError, match="owner cannot approve"):
        services.approve_campaign(campaign=campaign, by=mia)
    with pytest.raises(CampaignError, match="Only a marketing manager"):
        services.approve_campaign(campaign=campaign, by=alice)
    services.approve_campaign(campaign=campaign, by=checker)
    launch(campaign, mia, django_capture_on_commit_callbacks)
    assert campaign.status == Campaign.Status.RUNNING and campaign.approved_by == checker
    change = CampaignSettingChange.objects.get(campaign=campaign, field="approval")
    assert (change.by, change.after) == (checker, "approved")


def test_a_changed_launch_setting_withdraws_the_approval(vip, mia, checker):
    campaign = CampaignFactory(owner=mia, holdout_pct=10)
    services.approve_campaign(campaign=campaign, by=checker)
    campaign.refresh_from_db()
    campaign.objective = "A clearer objective"  # not a launch setting: the approval stands
    services.save_campaign(campaign=campaign, by=mia)
    assert Campaign.objects.get(pk=campaign.pk).approved_by == checker
    campaign.holdout_pct = 20
    services.save_campaign(campaign=campaign, by=mia)
    campaign.refresh_from_db()
    assert campaign.approved_by is None
    assert CampaignSettingChange.objects.filter(field="approval").latest("at").after.startswith("withdrawn")
    with pytest.raises(CampaignError):
        services.schedule_campaign(campaign=campaign, by=mia)


def test_scheduling_needs_the_approval_too(mia, checker):
    campaign = CampaignFactory(owner=mia, start_at=timezone.now() + timedelta(days=1))
    with pytest.raises(CampaignError, match="approval"):
        services.schedule_campaign(campaign=campaign, by=mia)
    services.approve_campaign(campaign=campaign, by=checker)
    assert services.schedule_campaign(campaign=campaign, by=mia).status == Campaign.Status.SCHEDULED


def test_the_api_and_the_page(api_as, web_as, mia, checker):
    campaign = CampaignFactory(owner=mia)
    assert api_as(mia).post(f"/api/v1/campaigns/{campaign.pk}/launch/").status_code == 409
    assert api_as(mia).post(f"/api/v1/campaigns/{campaign.pk}/approve/").status_code == 409
    page = web_as(checker).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Waiting for a second marketing manager" in page and "approve/" in page
    assert "approve/" not in web_as(mia).get(f"/campaigns/{campaign.pk}/").content.decode()
    approved = api_as(checker).post(f"/api/v1/campaigns/{campaign.pk}/approve/")
    assert approved.status_code == 200 and approved.json()["approved_by"] == checker.pk
    assert api_as(checker).post(f"/api/v1/campaigns/{campaign.pk}/approve/").status_code == 409


@override_settings(CAMPAIGN_APPROVAL_REQUIRED=False)
def test_switched_off_nothing_waits(make_vips, mia, alice, django_capture_on_commit_callbacks):
    make_vips(3, owner=alice)
    campaign = CampaignFactory(owner=mia, strategy="owner")
    launch(campaign, mia, django_capture_on_commit_callbacks)
    assert campaign.status == Campaign.Status.RUNNING
