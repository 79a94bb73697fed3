"""Key-event rules end to end: events in through the batch API, tasks out in the owner's queue and in
`GET /api/v1/tasks/?trigger=`, once per customer and window whatever arrives twice."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from activity.models import Event
from campaigns.models import Campaign, CampaignTemplate, PendingTriggerEvent, Task, TriggerFiring
from campaigns.triggers import conditions, services
from tests.factories import CustomerFactory, ProductFactory, TagFactory, UserFactory

Outcome = TriggerFiring.Outcome


@pytest.fixture
def post_events(api_as, mia, django_capture_on_commit_callbacks):
    """post_events(items) → the batch API's answer, with the jobs queued on commit run (eagerly)."""
    def post(items):
        with django_capture_on_commit_callbacks(execute=True):
            response = api_as(mia).post("/api/v1/events/", {"items": items}, format="json")
        assert response.status_code == 202, response.content
        return response.json()

    return post


def event(external_id, customer, kind="account_opening_failed", *, ago=timedelta(minutes=5), **properties):
    return {"id": external_id, "customer": customer.external_id, "type": kind,
            "occurred_at": (timezone.now() - ago).isoformat(), "properties": properties}


@pytest.fixture
def opening_failed(mia):
    return services.save_rule(by=mia, name="Opening failed", event="account_opening_failed",
                              properties={"step": {"in": ["kyc", "id"]}}, script="Call and help finish the opening.",
                              sla_hours=4)


def test_an_event_makes_one_task_for_the_owner_visible_in_the_tasks_api(db, post_events, opening_failed, alice,
                                                                       api_as, mia):
    customer = CustomerFactory(owner=alice)
    answer = post_events([event("e1", customer, step="kyc"), event("e2", customer, step="payment")])
    assert answer["accepted"] == 2
    task = Task.objects.get()
    assert (task.customer, task.assignee, task.trigger, task.campaign) == (
        customer, alice, opening_failed, opening_failed.campaign)
    assert task.trigger_event.external_id == "e1" and task.priority == opening_failed.priority
    listed = api_as(mia).get(f"/api/v1/tasks/?trigger={opening_failed.pk}").json()["results"]
    assert [(row["id"], row["trigger"], row["event"]) for row in listed] == [(task.pk, opening_failed.pk, "e1")]
    assert api_as(mia).get(f"/api/v1/tasks/?trigger={opening_failed.pk + 1}").json()["results"] == []
    mine = api_as(alice).get("/api/v1/tasks/").json()["results"]
    assert [row["id"] for row in mine] == [task.pk]
    assert not PendingTriggerEvent.objects.exists()
    campaign = Campaign.objects.get(pk=opening_failed.campaign_id)
    assert campaign.status == Campaign.Status.RUNNING and campaign.task_count == 1


def test_once_per_customer_and_window_whatever_arrives_twice(db, post_events, opening_failed, alice):
    first, second = CustomerFactory(owner=alice), CustomerFactory(owner=alice)
    post_events([event("e1", first, step="kyc")])
    post_events([event("e1", first, step="kyc")])  # the same event again: a duplicate
    post_events([event("e2", first, step="id"), event("e3", second, step="id")])  # same window, another customer
    # A retried job (the worker died after acting, before the message was acknowledged) finds the work done.
    PendingTriggerEvent.objects.create(event=Event.objects.get(external_id="e2"))
    services.fire_pending()
    assert sorted(Task.objects.values_list("customer_id", flat=True)) == sorted([first.pk, second.pk])
    # The next window is a new one.
    later = timezone.now() + timedelta(hours=opening_failed.window_hours)
    firing = services._Firing(opening_failed, first, conditions.window_of(later, opening_failed.window_hours),
                              None, Outcome.TASK, recipient_id=alice.pk)
    services._write([firing], later)
    assert Task.objects.filter(customer=first).count() == 2


def test_segment_and_properties_scope_a_rule(db, post_events, mia, alice):
    vip = TagFactory(slug="vip")
    rule = services.save_rule(by=mia, name="Big loss", event="position_loss", segment="vip",
                              properties={"loss_pct": {"gte": 20}})
    inside, outside = CustomerFactory(owner=alice, tags=[vip]), CustomerFactory(owner=alice)
    post_events([event("a", inside, "position_loss", loss_pct=25), event("b", outside, "position_loss", loss_pct=50),
                 event("c", inside, "position_loss", loss_pct=5)])
    assert list(Task.objects.values_list("customer_id", "trigger_event__external_id")) == [(inside.pk, "a")]
    assert rule.campaign.tasks.count() == 1


def test_old_events_fire_nothing(db, post_events, opening_failed, alice):
    customer = CustomerFactory(owner=alice)
    post_events([event("old", customer, step="kyc", ago=timedelta(days=3))])
    assert not Task.objects.exists() and not PendingTriggerEvent.objects.exists()


def test_did_a_but_not_b_within_n_hours(db, post_events, mia, alice):
    rule = services.save_rule(by=mia, name="Abandoned purchase", event="purchase_started",
                              absent_event="purchase_completed", absent_within_hours=2)
    finished, abandoned = CustomerFactory(owner=alice), CustomerFactory(owner=alice)
    post_events([event("s1", finished, "purchase_started", ago=timedelta(minutes=30)),
                 event("s2", abandoned, "purchase_started", ago=timedelta(minutes=30)),
                 event("c1", finished, "purchase_completed", ago=timedelta(minutes=10))])
    assert not Task.objects.exists()
    assert set(TriggerFiring.objects.values_list("outcome", flat=True)) == {Outcome.WAITING}
    assert services.settle_due() == 0  # not due yet
    assert services.settle_due(now=timezone.now() + timedelta(hours=2)) == 2
    assert dict(TriggerFiring.objects.values_list("customer_id", "outcome")) == {
        finished.pk: Outcome.FOLLOWED, abandoned.pk: Outcome.TASK}
    task = Task.objects.get()
    assert (task.customer, task.trigger, task.trigger_event.external_id) == (abandoned, rule, "s2")
    assert services.settle_due(now=timezone.now() + timedelta(hours=3)) == 0  # settled once


def test_a_condition_rule_fires_for_customers_who_enter_it(db, mia, alice):
    rule = services.save_rule(by=mia, name="Rich now", segment="assets >= 1000000", action="alert")
    already = CustomerFactory(owner=alice, assets=2_000_000)
    climbing = CustomerFactory(owner=alice, assets=10)
    assert services.check_condition_rules() == 0  # the first look notes who is in it
    climbing.assets = 1_500_000
    climbing.save()
    assert services.check_condition_rules() == 1
    alert = TriggerFiring.objects.get()
    assert (alert.customer, alert.outcome, alert.recipient, alert.rule) == (climbing, Outcome.ALERT, alice, rule)
    assert services.check_condition_rules() == 0 and not Task.objects.exists()
    assert already.pk not in TriggerFiring.objects.values_list("customer_id", flat=True)


def test_quiet_hours_defer_to_the_next_window_or_drop(db, post_events, mia, alice):
    deferring = services.save_rule(by=mia, name="Deferred", event="login_failed", quiet_hours="defer")
    dropping = services.save_rule(by=mia, name="Dropped", event="login_failed", quiet_hours="drop")
    customer = CustomerFactory(owner=alice)
    local = timezone.localtime()
    start, end = (local - timedelta(hours=1)).strftime("%H:%M"), (local + timedelta(hours=1)).strftime("%H:%M")
    with override_settings(CONTACT_QUIET_HOURS=f"{start}-{end}"):
        assert conditions.is_quiet(timezone.now())
        post_events([event("q1", customer, "login_failed")])
        assert not Task.objects.exists()
        outcomes = dict(TriggerFiring.objects.values_list("rule_id", "outcome"))
        assert outcomes == {deferring.pk: Outcome.DEFERRED, dropping.pk: Outcome.QUIET_DROPPED}
        deferred = TriggerFiring.objects.get(rule=deferring)
        opening = conditions.next_contact_window(timezone.now())
        assert deferred.due_at == opening and timezone.localtime(opening).strftime("%H:%M") == end
        assert services.settle_due(now=opening - timedelta(minutes=1)) == 0
        assert services.settle_due(now=opening) == 1
    task = Task.objects.get()
    assert task.trigger == deferring and TriggerFiring.objects.get(rule=deferring).outcome == Outcome.TASK


@pytest.mark.parametrize("text, inside", [("21:00-08:00", ["21:00", "23:59", "00:00", "07:59"]),
                                          ("12:00-13:30", ["12:00", "13:29"])])
def test_quiet_hours_over_midnight_and_within_a_day(text, inside):
    from datetime import datetime, time

    zone = conditions.zone()
    with override_settings(CONTACT_QUIET_HOURS=text):
        for hhmm in ("00:00", "07:59", "08:00", "12:00", "13:29", "13:30", "20:59", "21:00", "23:59"):
            moment = datetime.combine(datetime(2026, 12, 2).date(), time.fromisoformat(hhmm), tzinfo=zone)
            assert conditions.is_quiet(moment) == (hhmm in inside), hhmm
            opened = conditions.next_contact_window(moment)
            assert not conditions.is_quiet(opened) and opened >= moment


def test_who_gets_the_task(db, post_events, opening_failed, alice, shenzhen):
    gone = UserFactory(username="gone", role="account_manager", branch=shenzhen, is_active=False)
    busy = UserFactory(username="busy", role="account_manager", branch=shenzhen)
    alice_customer = CustomerFactory(owner=alice)
    orphan = CustomerFactory(owner=gone, branch=shenzhen)  # an inactive owner: the branch's least loaded
    nobody = CustomerFactory(owner=None, branch=None)
    blocked = CustomerFactory(owner=alice, do_not_contact=True)
    services._write([services._Firing(opening_failed, CustomerFactory(owner=busy), 1, None, Outcome.TASK,
                                      recipient_id=busy.pk)], timezone.now())  # busy has one open task
    post_events([event(f"e{n}", customer, step="kyc") for n, customer in enumerate(
        [alice_customer, orphan, nobody, blocked])])
    assigned = dict(Task.objects.filter(trigger_event__isnull=False).values_list("customer_id", "assignee_id"))
    assert assigned == {alice_customer.pk: alice.pk, orphan.pk: alice.pk}
    outcomes = dict(TriggerFiring.objects.values_list("customer_id", "outcome"))
    assert outcomes[nobody.pk] == Outcome.NO_ACCOUNT_MANAGER and outcomes[blocked.pk] == Outcome.DO_NOT_CONTACT


def test_alerts_go_to_the_owner_only(db, post_events, mia, alice, bob, web_as):
    services.save_rule(by=mia, name="Big redemption", event="redemption_request", action="alert")
    alices, bobs = CustomerFactory(owner=alice, name="Alice's client"), CustomerFactory(owner=bob, name="Bob's client")
    post_events([event("r1", alices, "redemption_request"), event("r2", bobs, "redemption_request")])
    assert not Task.objects.exists()
    page = web_as(alice).get("/campaigns/alerts/").content.decode()
    assert "Alice&#x27;s client" in page and "Bob&#x27;s" not in page
    web_as(alice).post("/campaigns/alerts/seen/")
    assert list(TriggerFiring.objects.filter(seen_at__isnull=False).values_list("recipient", flat=True)) == [alice.pk]


def test_a_stopped_rule_fires_no_more(db, post_events, opening_failed, alice, mia):
    customer = CustomerFactory(owner=alice)
    Campaign.objects.filter(pk=opening_failed.campaign_id).update(status=Campaign.Status.CANCELLED)
    post_events([event("e1", customer, step="kyc")])
    services.save_rule(by=mia, rule=opening_failed, active=False)
    post_events([event("e2", customer, step="kyc")])
    assert not Task.objects.exists()


def test_the_demo_rules_are_made_once(db, mia):
    from campaigns.management.commands.seed_demo import Command

    Command().seed_triggers()
    Command().seed_triggers()
    rules = {rule.name: rule for rule in services.live_rules()}
    assert set(rules) == {"Account opening failed", "Heavy asset drop", "Product maturing"}
    assert rules["Product maturing"].threshold == {"kind": "maturing", "days": 14} and rules["Product maturing"].service
    assert rules["Heavy asset drop"].text == "asset_change_30d <= -0.3" and rules["Heavy asset drop"].event == ""


def test_the_demo_week_is_planned_once(db, mia):
    from campaigns.management.commands.seed_demo import DEMO_WEEK, Command

    TagFactory(slug="contact-cellular")
    TagFactory(slug="job-student")
    TagFactory(slug="job-retired")
    for code in ("DEPOS-01", "FUND-09", "DEPOS-02", "WEALT-02", "ADVIS-01"):
        ProductFactory(code=code)
    Command().seed_week()
    Command().seed_week()
    templates = list(CampaignTemplate.objects.all())
    assert len(templates) == len(DEMO_WEEK) == 5
    assert [(t.weekday, f"{t.window_start:%H:%M}") for t in templates][:2] == [(1, "08:30"), (1, "08:30")]
    assert {t.channel for t in templates if t.weekday == 1} == {"app_push", "sms"}
    assert all(template.products.count() == 1 for template in templates)  # each measured by purchases
