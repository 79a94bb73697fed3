"""Outcome logging: validation rules, no lost updates, history, follow-ups."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.models import OutcomeChange, Task
from campaigns.workspace.services import StaleEdit, clean_outcome, log_outcome, reassign_tasks
from tests.factories import CampaignFactory, TaskFactory

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + timedelta(days=1)


@pytest.fixture
def task(alice):
    return TaskFactory(assignee=alice, campaign=CampaignFactory(status="running", product="Gold fund"))


@pytest.mark.parametrize("values", [
    {"contact_result": "reached", "response": "converted", "amount": "50000"},
    {"contact_result": "reached", "response": "converted"},
    {"contact_result": "reached", "response": "declined", "failure_reason": "price"},
    {"contact_result": "reached", "response": "not_interested", "failure_reason": "other", "failure_note": "moving"},
    {"contact_result": "reached", "response": "call_back", "next_follow_up": TOMORROW},
    {"contact_result": "reached", "response": "interested", "note": "wants a brochure"},
    {"contact_result": "unreachable"},
    {"contact_result": "wrong_number"},
    {"contact_result": "refused"},
])
def test_valid_outcomes(values):
    cleaned = clean_outcome(values)
    assert (cleaned["contact_result"], cleaned["response"]) == (values["contact_result"], values.get("response", ""))
    assert cleaned["failure_reason"] == values.get("failure_reason", "")


@pytest.mark.parametrize("values, field", [
    ({}, "contact_result"),
    ({"contact_result": "maybe"}, "contact_result"),
    ({"contact_result": "reached"}, "response"),
    ({"contact_result": "unreachable", "response": "converted"}, "response"),
    ({"contact_result": "reached", "response": "declined"}, "failure_reason"),
    ({"contact_result": "reached", "response": "declined", "failure_reason": "astrology"}, "failure_reason"),
    ({"contact_result": "reached", "response": "declined", "failure_reason": "other"}, "failure_note"),
    ({"contact_result": "reached", "response": "converted", "failure_reason": "price"}, "failure_reason"),
    ({"contact_result": "reached", "response": "converted", "amount": "-1"}, "amount"),
    ({"contact_result": "reached", "response": "converted", "amount": "lots"}, "amount"),
    ({"contact_result": "reached", "response": "interested", "amount": "100"}, "amount"),
    ({"contact_result": "reached", "response": "call_back"}, "next_follow_up"),
    ({"contact_result": "reached", "response": "call_back", "next_follow_up": "2001-01-01"}, "next_follow_up"),
    ({"contact_result": "reached", "response": "call_back", "next_follow_up": "soon"}, "next_follow_up"),
])
def test_invalid_outcomes_name_the_field(values, field):
    with pytest.raises(ValidationError) as error:
        clean_outcome(values)
    assert field in error.value.message_dict


def test_logging_marks_done_bumps_version_and_keeps_history(task, alice):
    saved = log_outcome(task=task, by=alice, version=1, contact_result="reached", response="converted",
                        amount=Decimal("80000"))
    assert (saved.status, saved.version, saved.product) == ("done", 2, "Gold fund")
    first_completion = saved.completed_at
    corrected = log_outcome(task=saved, by=alice, version=2, contact_result="reached", response="converted",
                            amount=Decimal("90000"))
    assert corrected.version == 3 and corrected.completed_at == first_completion
    changes = list(OutcomeChange.objects.filter(task=task).order_by("version"))
    assert [(change.by, change.version) for change in changes] == [(alice, 2), (alice, 3)]
    assert changes[0].before["status"] == "open" and changes[0].after["status"] == "done"
    assert changes[0].after["amount"] == "80000.00" and changes[1].before["amount"] == "80000.00"
    assert changes[1].after["amount"] == "90000.00"


def test_second_edit_from_a_stale_version_is_refused_not_overwritten(task, alice):
    log_outcome(task=task, by=alice, version=1, contact_result="reached", response="converted", amount=Decimal(5))
    with pytest.raises(StaleEdit) as stale:  # the other tab still holds version 1
        log_outcome(task=task, by=alice, version=1, contact_result="unreachable")
    assert stale.value.current.version == 2
    task.refresh_from_db()
    assert (task.response, task.amount) == ("converted", Decimal("5.00"))
    assert OutcomeChange.objects.filter(task=task).count() == 1


def test_a_reassignment_meanwhile_makes_the_edit_stale(task, alice, bob, mia):
    reassign_tasks(tasks=Task.objects.filter(pk=task.pk), to_user=bob, by=mia)
    with pytest.raises(StaleEdit):
        log_outcome(task=task, by=alice, version=1, contact_result="unreachable")


def test_invalid_outcome_changes_nothing(task, alice):
    with pytest.raises(ValidationError):
        log_outcome(task=task, by=alice, version=1, contact_result="reached", response="declined")
    task.refresh_from_db()
    assert (task.status, task.version, task.response) == ("open", 1, "")
    assert not OutcomeChange.objects.exists()


def test_call_back_opens_one_follow_up_task_moved_by_later_edits(task, alice):
    saved = log_outcome(task=task, by=alice, version=1, contact_result="reached", response="call_back",
                        next_follow_up=TOMORROW)
    follow_up = Task.objects.get(follow_up_of=task)
    assert (follow_up.assignee, follow_up.due_date, follow_up.status) == (alice, TOMORROW, "open")
    later = TOMORROW + timedelta(days=3)
    saved = log_outcome(task=saved, by=alice, version=2, contact_result="reached", response="call_back",
                        next_follow_up=later)
    assert Task.objects.filter(follow_up_of=task).count() == 1
    assert Task.objects.get(follow_up_of=task).due_date == later
    log_outcome(task=saved, by=alice, version=3, contact_result="reached", response="converted")
    assert Task.objects.get(follow_up_of=task).status == "cancelled"


def test_cancelled_tasks_take_no_outcome(task, alice):
    Task.objects.filter(pk=task.pk).update(status="cancelled")
    with pytest.raises(ValidationError):
        log_outcome(task=task, by=alice, version=1, contact_result="unreachable")


@pytest.mark.django_db(transaction=True)
def test_a_task_finished_while_a_reassignment_runs_stays_with_who_finished_it(alice, bob, mia):
    """The probe's race: the outcome commits while the reassignment is under way. The outcome's
    task must stay alice's, done, with no reassignment recorded; the open ones move."""
    import threading
    import time

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: the two cannot interleave")
    campaign = CampaignFactory(status="running")
    finishing, *others = [TaskFactory(campaign=campaign, assignee=alice) for _n in range(4)]
    logged, release, moved = threading.Event(), threading.Event(), {}

    def outcome_held_open():
        with transaction.atomic():
            log_outcome(task=finishing, by=alice, version=1, contact_result="reached", response="converted",
                        amount=Decimal("10"))
            logged.set()
            release.wait(10)  # the reassignment starts while this is still uncommitted
        connection.close()

    def reassignment():
        moved["count"] = reassign_tasks(tasks=Task.objects.filter(campaign=campaign), to_user=bob, by=mia)
        connection.close()

    first = threading.Thread(target=outcome_held_open)
    first.start()
    assert logged.wait(10)
    second = threading.Thread(target=reassignment)
    second.start()
    time.sleep(0.5)  # the reassignment is now waiting on the finishing task's lock
    release.set()
    first.join(10)
    second.join(10)
    finishing.refresh_from_db()
    assert (finishing.assignee, finishing.status, finishing.response) == (alice, "done", "converted")
    assert not finishing.reassignments.exists()
    assert moved["count"] == 3
    assert set(Task.objects.filter(pk__in=[task.pk for task in others]).values_list("assignee", flat=True)) == {bob.pk}
