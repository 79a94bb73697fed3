"""Issue 20: result tags belong to their campaign; no other tag is ever rewritten, and none collide."""

import pytest

from campaigns.analytics.result_tags import tag_results
from campaigns.models import ResultTag
from customers.models import CustomerTag, Tag, TagChange
from tests.factories import CampaignFactory, CustomerFactory, TaskFactory

pytestmark = pytest.mark.django_db


def converted(campaign, customer):
    return TaskFactory(campaign=campaign, customer=customer, status="done", contact_result="reached",
                       response="converted")


def test_a_manual_tag_with_a_result_like_slug_is_never_touched(mia):
    manual = Tag.objects.create(slug="gold-converted", name="Gold converted (manual)")
    holders = [CustomerFactory(tags=[manual]) for _ in range(5)]
    campaign = CampaignFactory(slug="gold", owner=mia, status="completed")
    converted(campaign, holders[0])
    counts = tag_results(campaign=campaign)
    assert CustomerTag.objects.filter(tag=manual).count() == 5  # all five keep the manual tag
    own = ResultTag.objects.get(campaign=campaign, result="converted").tag
    assert own != manual and own.slug == "gold-converted-2" and counts["gold-converted-2"] == 1
    assert Tag.objects.get(pk=manual.pk).source == Tag.Source.MANUAL


def test_a_campaign_whose_slug_extends_another_keeps_its_own_tags(mia):
    first = CampaignFactory(slug="spring", owner=mia, status="completed")
    second = CampaignFactory(slug="spring-converted", owner=mia, status="completed")
    ann, ben = CustomerFactory(), CustomerFactory()
    converted(first, ann)
    converted(second, ben)
    tag_results(campaign=first)
    tag_results(campaign=second)
    tag_results(campaign=first)
    first_tag = ResultTag.objects.get(campaign=first, result="converted").tag
    second_tag = ResultTag.objects.get(campaign=second, result="converted").tag
    assert list(first_tag.customers.all()) == [ann] and list(second_tag.customers.all()) == [ben]


def test_long_slugs_never_collide_after_truncation(mia):
    long = "x" * 80
    first = CampaignFactory(slug=long, owner=mia, status="completed")
    second = CampaignFactory(slug=long[:79] + "y", owner=mia, status="completed")
    ann, ben = CustomerFactory(), CustomerFactory()
    converted(first, ann)
    converted(second, ben)
    tag_results(campaign=first)
    tag_results(campaign=second)
    slugs = {ResultTag.objects.get(campaign=campaign, result="converted").tag.slug for campaign in (first, second)}
    assert len(slugs) == 2 and all(len(slug) <= 80 for slug in slugs)
    assert ResultTag.objects.get(campaign=first, result="converted").tag.customers.get() == ann


def test_a_renamed_result_tag_stays_the_campaigns_and_changes_are_in_the_history(mia):
    campaign = CampaignFactory(slug="autumn", owner=mia, status="completed")
    ann = CustomerFactory()
    task = converted(campaign, ann)
    tag_results(campaign=campaign)
    tag = ResultTag.objects.get(campaign=campaign, result="converted").tag
    Tag.objects.filter(pk=tag.pk).update(slug="autumn-buyers")
    task.response = "declined"
    task.save()
    tag_results(campaign=campaign)
    assert not CustomerTag.objects.filter(tag_id=tag.pk).exists()
    assert ResultTag.objects.get(campaign=campaign, result="declined").tag.customers.get() == ann
    assert set(TagChange.objects.filter(customer=ann).values_list("tag_slug", "action")) == {
        ("autumn-converted", "added"), ("autumn-buyers", "removed"), ("autumn-declined", "added")}
