"""Launch: exclusions counted exactly, a reproducible holdout, every strategy, all-or-nothing."""

from collections import Counter
from datetime import timedelta

import numpy as np
import pytest
from django.db.models import F
from django.utils import timezone

from campaigns.lifecycle import services
from campaigns.lifecycle.launch import is_control
from campaigns.models import Campaign, Task
from campaigns.workspace.services import reassign_tasks
from core.models import Job
from customers.models import Customer
from tests.factories import CampaignFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=False)


def launch(campaign, by, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = services.queue_launch(campaign=campaign, by=by)
    job.refresh_from_db()
    campaign.refresh_from_db()
    return job


def test_exclusions_are_counted_once_each_by_first_reason(make_vips, mia, alice, bob,
                                                          django_capture_on_commit_callbacks):
    plain = make_vips(50, owner=alice)
    make_vips(10, owner=alice, do_not_contact=True)
    make_vips(4, owner=bob, do_not_contact=True, opted_out_channels=["phone"])  # counted as do-not-contact
    make_vips(6, owner=bob, opted_out_channels=["phone", "sms"])
    make_vips(5, owner=bob, opted_out_channels=["sms"])  # sms only: a phone campaign may call them
    make_vips(7)  # nobody owns them
    recent = CampaignFactory(status="running")
    for customer in plain[:8]:
        TaskFactory(campaign=recent, customer=customer)
    old = CampaignFactory(status="completed")
    for customer in plain[8:11]:  # outside the cap window: still contactable
        TaskFactory(campaign=old, customer=customer, created_at=timezone.now() - timedelta(days=40))
    campaign = CampaignFactory(owner=mia, strategy="owner", frequency_cap_days=30)

    job = launch(campaign, mia, django_capture_on_commit_callbacks)

    assert job.state == Job.State.SUCCEEDED, job.errors
    assert campaign.status == Campaign.Status.RUNNING
    assert campaign.audience_size == 82
    assert campaign.excluded == {"do_not_contact": 14, "opted_out": 6, "frequency_cap": 8, "no_account_manager": 7}
    assert campaign.task_count == 82 - 35
    assert campaign.tasks.count() == 47
    assert job.result["tasks"] == 47


def test_holdout_share_is_within_tolerance_and_reproducible(make_vips, mia, alice,
                                                            django_capture_on_commit_callbacks):
    make_vips(3000, owner=alice)
    first = CampaignFactory(owner=mia, holdout_pct=10, holdout_seed=777)
    launch(first, mia, django_capture_on_commit_callbacks)
    control = set(first.tasks.filter(group="control").values_list("customer_id", flat=True))

    assert 0.085 <= len(control) / 3000 <= 0.115
    assert first.holdout_size == len(control)
    assert not first.tasks.filter(group="control", assignee__isnull=False).exists()
    ids = np.array(sorted(Customer.objects.values_list("pk", flat=True)))
    assert control == set(ids[is_control(ids, seed=777, holdout_pct=10)].tolist())

    same_seed = CampaignFactory(owner=mia, holdout_pct=10, holdout_seed=777)
    other_seed = CampaignFactory(owner=mia, holdout_pct=10, holdout_seed=778)
    for campaign in (same_seed, other_seed):
        launch(campaign, mia, django_capture_on_commit_callbacks)
    assert set(same_seed.tasks.filter(group="control").values_list("customer_id", flat=True)) == control
    assert set(other_seed.tasks.filter(group="control").values_list("customer_id", flat=True)) != control


def test_no_holdout_means_every_eligible_customer_is_contacted(make_vips, mia, alice,
                                                               django_capture_on_commit_callbacks):
    make_vips(30, owner=alice)
    campaign = CampaignFactory(owner=mia, holdout_pct=0)
    launch(campaign, mia, django_capture_on_commit_callbacks)
    assert campaign.holdout_size == 0 and campaign.tasks.filter(group="treatment").count() == 30


def test_owner_strategy_gives_each_customer_to_their_own_manager(make_vips, mia, alice, bob,
                                                                 django_capture_on_commit_callbacks):
    make_vips(20, owner=alice)
    make_vips(13, owner=bob)
    campaign = CampaignFactory(owner=mia, strategy="owner")
    launch(campaign, mia, django_capture_on_commit_callbacks)
    assert not campaign.tasks.exclude(assignee_id=F("customer__owner_id")).exists()
    assert Counter(campaign.tasks.values_list("assignee__username", flat=True)) == {"alice": 20, "bob": 13}


def test_round_robin_deals_in_turn_in_customer_order(make_vips, mia, alice, bob, carol,
                                                     django_capture_on_commit_callbacks):
    make_vips(31)
    campaign = CampaignFactory(owner=mia, strategy="round_robin")
    campaign.account_managers.set([carol, alice, bob])
    launch(campaign, mia, django_capture_on_commit_callbacks)
    assignees = list(campaign.tasks.order_by("customer_id").values_list("assignee_id", flat=True))
    by_pk = sorted([alice.pk, bob.pk, carol.pk])
    assert assignees == [by_pk[index % 3] for index in range(31)]


def test_least_open_levels_the_queues(make_vips, mia, alice, bob, carol, django_capture_on_commit_callbacks):
    busy = CampaignFactory(status="running")
    for _number in range(6):
        TaskFactory(campaign=busy, assignee=alice)
    for _number in range(2):
        TaskFactory(campaign=busy, assignee=bob)
    TaskFactory(campaign=busy, assignee=carol, status="done")  # done work is not load
    make_vips(10)
    campaign = CampaignFactory(owner=mia, strategy="least_open")
    campaign.account_managers.set([alice, bob, carol])
    launch(campaign, mia, django_capture_on_commit_callbacks)

    new = Counter(campaign.tasks.values_list("assignee__username", flat=True))
    assert new == {"bob": 4, "carol": 6}  # open loads 6/2/0 + 10 new → 6/6/6
    final = {name: Task.objects.filter(assignee__username=name, status="open").count() for name in new}
    assert final == {"bob": 6, "carol": 6}


def test_branch_strategy_keeps_customers_in_their_branch(make_vips, mia, alice, bob, carol, shenzhen, shanghai,
                                                         django_capture_on_commit_callbacks):
    make_vips(9, branch=shenzhen)
    make_vips(4, branch=shanghai)
    make_vips(3)  # no branch: nobody to take them
    campaign = CampaignFactory(owner=mia, strategy="branch")
    launch(campaign, mia, django_capture_on_commit_callbacks)

    assert campaign.excluded == {"no_account_manager": 3}
    rows = list(campaign.tasks.values_list("assignee__branch_id", "customer__branch_id"))
    assert rows and all(assignee_branch == customer_branch for assignee_branch, customer_branch in rows)
    assert Counter(campaign.tasks.values_list("assignee__username", flat=True)) == {"alice": 5, "carol": 4, "bob": 4}


def test_double_launch_returns_the_same_job_and_never_new_tasks(make_vips, mia, alice,
                                                                django_capture_on_commit_callbacks):
    make_vips(25, owner=alice)
    campaign = CampaignFactory(owner=mia)
    first = services.queue_launch(campaign=campaign, by=mia)
    second = services.queue_launch(campaign=campaign, by=mia)  # a double click before the worker ran
    assert first.pk == second.pk
    services.run_launch(job_id=str(first.pk))
    services.run_launch(job_id=str(first.pk))  # a redelivered message
    assert Task.objects.filter(campaign=campaign).count() == 25
    with pytest.raises(services.CampaignError) as refused:
        services.queue_launch(campaign=campaign, by=mia)
    assert refused.value.conflict
    assert Task.objects.filter(campaign=campaign).count() == 25


def test_retried_job_after_commit_reports_instead_of_redoing(make_vips, mia, alice):
    make_vips(12, owner=alice)
    campaign = CampaignFactory(owner=mia)
    job = services.queue_launch(campaign=campaign, by=mia)
    services.run_launch(job_id=str(job.pk))
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING)  # the worker died before finish_job
    result = services.run_launch(job_id=str(job.pk))
    assert result["tasks"] == 12 and Task.objects.filter(campaign=campaign).count() == 12


def test_failure_mid_launch_leaves_no_task_and_a_relaunch_completes(make_vips, mia, alice, monkeypatch):
    make_vips(40, owner=alice)
    campaign = CampaignFactory(owner=mia)
    job = services.queue_launch(campaign=campaign, by=mia)
    real_move = services._move

    def crash_after_tasks_were_written(*args, **kwargs):
        assert Task.objects.filter(campaign=campaign).count() == 40  # the INSERT had run
        raise RuntimeError("worker lost")

    monkeypatch.setattr(services, "_move", crash_after_tasks_were_written)
    with pytest.raises(RuntimeError):
        services.run_launch(job_id=str(job.pk))
    campaign.refresh_from_db()
    assert Task.objects.filter(campaign=campaign).count() == 0
    assert campaign.status == Campaign.Status.DRAFT and campaign.audience_size is None
    assert Job.objects.get(pk=job.pk).state == Job.State.FAILED

    monkeypatch.setattr(services, "_move", real_move)
    retry = services.queue_launch(campaign=campaign, by=mia)
    assert retry.pk != job.pk
    services.run_launch(job_id=str(retry.pk))
    assert Task.objects.filter(campaign=campaign).count() == 40


def test_empty_audience_is_refused_before_any_job(vip, mia):
    campaign = CampaignFactory(owner=mia)
    with pytest.raises(services.CampaignError, match="audience is empty"):
        services.queue_launch(campaign=campaign, by=mia)
    campaign.refresh_from_db()
    assert campaign.launch_job is None and campaign.status == Campaign.Status.DRAFT


def test_audience_entirely_excluded_is_refused(make_vips, mia):
    make_vips(5, do_not_contact=True)
    campaign = CampaignFactory(owner=mia)
    with pytest.raises(services.CampaignError, match="excluded"):
        services.queue_launch(campaign=campaign, by=mia)


def test_round_robin_without_managers_is_refused(make_vips, mia):
    make_vips(5)
    campaign = CampaignFactory(owner=mia, strategy="round_robin")
    with pytest.raises(services.CampaignError, match="account manager"):
        services.queue_launch(campaign=campaign, by=mia)


def test_due_date_from_sla_days(make_vips, mia, alice, django_capture_on_commit_callbacks):
    make_vips(3, owner=alice)
    campaign = CampaignFactory(owner=mia, sla_days=5)
    launch(campaign, mia, django_capture_on_commit_callbacks)
    due = set(campaign.tasks.values_list("due_date", flat=True))
    assert due == {timezone.localdate() + timedelta(days=5)} or due == {timezone.now().date() + timedelta(days=5)}


def test_segment_audience_is_frozen_at_launch(make_vips, mia, alice, django_capture_on_commit_callbacks):
    from segments.services import save_segment

    make_vips(6, owner=alice)
    segment = save_segment(name="VIPs", text="vip", by=mia)
    campaign = CampaignFactory(owner=mia, segment=segment, expression=None, text="")
    launch(campaign, mia, django_capture_on_commit_callbacks)
    make_vips(4, owner=alice)  # joins the segment after launch
    campaign.refresh_from_db()
    assert campaign.launched_text == "vip" and campaign.audience_size == 6 and campaign.tasks.count() == 6


def test_scheduled_campaign_launches_itself_when_due(make_vips, mia, alice, django_capture_on_commit_callbacks):
    make_vips(4, owner=alice)
    campaign = CampaignFactory(owner=mia, start_at=timezone.now() + timedelta(hours=1))
    services.schedule_campaign(campaign=campaign, by=mia)
    assert services.launch_due_campaigns() == 0
    Campaign.objects.filter(pk=campaign.pk).update(start_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.launch_due_campaigns() == 1
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING and campaign.task_count == 4
    assert list(campaign.transitions.values_list("to_status", flat=True)) == ["scheduled", "running"]


def test_scheduled_campaign_that_cannot_launch_returns_to_draft_saying_why(vip, mia):
    campaign = CampaignFactory(owner=mia, start_at=timezone.now() - timedelta(minutes=1), status="scheduled")
    assert services.launch_due_campaigns() == 0
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert "empty" in campaign.transitions.last().note


def test_lifecycle_transitions_are_validated_and_recorded(make_vips, mia, alice, django_capture_on_commit_callbacks):
    make_vips(5, owner=alice)
    campaign = CampaignFactory(owner=mia)
    with pytest.raises(services.CampaignError):
        services.complete_campaign(campaign=campaign, by=mia)  # a draft never ran
    with pytest.raises(services.CampaignError, match="future"):
        services.schedule_campaign(campaign=campaign, by=mia)
    launch(campaign, mia, django_capture_on_commit_callbacks)
    Task.objects.filter(pk=campaign.tasks.order_by("pk").first().pk).update(status="done")
    services.complete_campaign(campaign=campaign, by=mia)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.COMPLETED and campaign.closed_at
    assert Counter(campaign.tasks.values_list("status", flat=True)) == {"cancelled": 4, "done": 1}
    with pytest.raises(services.CampaignError):
        services.cancel_campaign(campaign=campaign, by=mia)
    history = list(campaign.transitions.values_list("from_status", "to_status", "by__username"))
    assert history == [("draft", "running", "mia"), ("running", "completed", "mia")]


def test_reassignment_moves_open_tasks_and_keeps_history(make_vips, mia, alice, bob, django_capture_on_commit_callbacks):
    make_vips(6, owner=alice)
    campaign = CampaignFactory(owner=mia)
    launch(campaign, mia, django_capture_on_commit_callbacks)
    done = campaign.tasks.order_by("pk").first()
    Task.objects.filter(pk=done.pk).update(status="done")
    moved = reassign_tasks(tasks=campaign.tasks.all(), to_user=bob, by=mia)
    assert moved == 5
    assert Counter(campaign.tasks.values_list("assignee__username", flat=True)) == {"bob": 5, "alice": 1}
    task = campaign.tasks.filter(assignee=bob).first()
    assert task.version == 2
    assert list(task.reassignments.values_list("from_user__username", "to_user__username", "by__username")) == [
        ("alice", "bob", "mia")]
    with pytest.raises(services.CampaignError):
        reassign_tasks(tasks=campaign.tasks.all(), to_user=mia, by=mia)


def test_campaign_launch_counts_a_manager_created_here(make_vips, mia, django_capture_on_commit_callbacks):
    newcomer = UserFactory(username="newcomer", role="account_manager")
    make_vips(4, owner=newcomer)
    campaign = CampaignFactory(owner=mia)
    launch(campaign, mia, django_capture_on_commit_callbacks)
    assert campaign.task_count == 4


def test_one_bad_scheduled_campaign_never_blocks_the_others(make_vips, mia, alice, django_capture_on_commit_callbacks):
    """Issue 20: an out-of-range expression saved before ranges were checked made every run of the
    scheduler raise OverflowError, and no other scheduled campaign launched."""
    make_vips(3, owner=alice)
    due = timezone.now() - timedelta(minutes=1)
    broken = CampaignFactory(owner=mia, start_at=due, status="scheduled", text="vip AND age > 99999999999999999999",
                             expression={"all": [{"tag": "vip"},
                                                 {"field": "age", "op": "gt", "value": 99999999999999999999}]})
    on_sunday = CampaignFactory(owner=mia, start_at=due, status="scheduled", text="created_at > 9999-12-31",
                                expression={"field": "created_at", "op": "gt", "value": "9999-12-31"})
    good = CampaignFactory(owner=mia, start_at=due, status="scheduled")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.launch_due_campaigns() == 1
    for campaign in (broken, on_sunday, good):
        campaign.refresh_from_db()
    assert good.status == Campaign.Status.RUNNING and good.task_count == 3
    assert broken.status == on_sunday.status == Campaign.Status.DRAFT
    assert "between 0 and 150" in broken.transitions.last().note
    assert "2999-12-31" in on_sunday.transitions.last().note
