"""Recurring templates: beat launches one wave per template and day when its window opens, each wave is
a campaign measured on its own, the waves together add up, and the Monday review proposes for each."""

from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from campaigns.analytics import review
from campaigns.analytics.exports import summary_text
from campaigns.analytics.waves import propose
from campaigns.errors import CampaignError
from campaigns.models import Campaign, CampaignTemplate, Task
from campaigns.recurring import selectors, services
from campaigns.workspace.services import log_outcome
from tests.campaigns.analytics.test_metrics import newcombe_by_hand
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def next_weekday(weekday: int, after: date | None = None) -> date:
    day = (after or timezone.localdate()) + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def at(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def template(mia, vip):
    return services.save_template(template=CampaignTemplate(
        name="From user to customer", plan="First fund purchase", text="vip", channel="sms", weekday=1,
        window_start=time(8, 30), window_end=time(9, 30), holdout_pct=20, cost_per_contact=2), by=mia)


@pytest.fixture
def run_beat(django_capture_on_commit_callbacks):
    def run(now):
        with django_capture_on_commit_callbacks(execute=True):
            return services.launch_due_waves(now=now)
    return run


def convert_some(wave: Campaign, by, every: int) -> None:
    for number, task in enumerate(Task.objects.filter(campaign=wave, group=Task.Group.TREATMENT).order_by("pk")):
        outcome = {"response": "converted", "amount": 100} if number % every == 0 else {"response": "not_interested",
                                                                                      "failure_reason": "price"}
        log_outcome(task=task, by=by, version=task.version, contact_result="reached", **outcome)


def test_a_template_launches_one_wave_per_day_inside_its_window(template, make_vips, alice, run_beat):
    make_vips(40, owner=alice)
    tuesday = next_weekday(1)
    assert run_beat(at(tuesday, "08:29")) == [] and run_beat(at(tuesday - timedelta(days=1), "08:45")) == []
    launched = run_beat(at(tuesday, "08:30"))
    assert len(launched) == 1
    assert run_beat(at(tuesday, "08:31")) == [] and run_beat(at(tuesday, "09:10")) == []  # the day's wave is taken
    wave = Campaign.objects.get(pk=launched[0])
    assert (wave.template, wave.wave_date, wave.status, wave.channel) == (template, tuesday, "running", "sms")
    assert wave.audience_size == 40 and wave.holdout_size + wave.task_count == 40 and wave.holdout_size > 0
    due = {task.due_at for task in Task.objects.filter(campaign=wave, group=Task.Group.TREATMENT)}
    assert due == {at(tuesday, "09:30")}  # due by the end of the contact window, inside it
    assert run_beat(at(tuesday, "09:30")) == []  # the window closed


def test_a_wave_s_page_links_its_template(template, make_vips, alice, run_beat, web_as, mia):
    make_vips(5, owner=alice)
    [launched] = run_beat(at(next_weekday(1), "08:40"))
    page = web_as(mia).get(f"/campaigns/{launched}/").content.decode()
    assert f'href="/campaigns/templates/{template.pk}/"' in page and "contact between 08:30 and 09:30" in page


def test_two_waves_are_measured_alone_and_together(template, make_vips, alice, mia, run_beat):
    make_vips(200, owner=alice)
    first_day = next_weekday(1)
    second_day = first_day + timedelta(days=7)
    [first] = run_beat(at(first_day, "08:40"))
    [second] = run_beat(at(second_day, "08:40"))
    first, second = Campaign.objects.get(pk=first), Campaign.objects.get(pk=second)
    assert first.wave_date == first_day and second.wave_date == second_day and first.name != second.name
    convert_some(first, alice, every=2)
    convert_some(second, alice, every=5)
    # The holdout's outcomes as a history import records them: one in four converted.
    for number, task in enumerate(Task.objects.filter(campaign__in=[first, second], group=Task.Group.CONTROL)):
        Task.objects.filter(pk=task.pk).update(completed_at=timezone.now(), contact_result="reached",
                                               response="converted" if number % 4 == 0 else "not_interested")
    rows, together = selectors.template_waves(template)
    figures = {row["wave"].pk: row["figures"] for row in rows}
    assert figures[first.pk]["converted"] == len(range(0, first.task_count, 2))
    assert figures[second.pk]["converted"] == len(range(0, second.task_count, 5))
    assert together["waves"] == 2
    for name in ("customers", "contacted", "converted", "attempts"):
        assert together[name] == figures[first.pk][name] + figures[second.pk][name]
    assert together["success_rate"] == round(together["converted"] / together["contacted"], 4)
    # Pooled uplift: every treated customer of both waves against every holdout customer of both.
    treated = first.task_count + second.task_count
    held = first.holdout_size + second.holdout_size
    lift = together["uplift"]
    assert (lift["treatment"]["customers"], lift["control"]["customers"]) == (treated, held)
    assert lift["treatment"]["converted"] == together["converted"]
    held_converted = Task.objects.filter(campaign__in=[first, second], group=Task.Group.CONTROL,
                                         response="converted").count()
    assert lift["enough_data"] and lift["control"]["known"] == held
    low, high = newcombe_by_hand(together["converted"], treated, held_converted, held)
    assert (lift["ci_low"], lift["ci_high"]) == pytest.approx((low, high), abs=1e-4)
    assert lift["value"] == round(together["converted"] / treated - held_converted / held, 4)


def test_the_week_grid_shows_each_template_on_its_day_with_its_wave(template, make_vips, alice, run_beat, mia,
                                                                   web_as):
    make_vips(10, owner=alice)
    tuesday = next_weekday(1)
    run_beat(at(tuesday, "08:45"))
    days = selectors.week_grid(selectors.week_start(tuesday), now=at(tuesday, "10:00"))
    [cell] = days[1].cells
    assert cell.template == template and cell.state == "launched" and cell.wave.wave_date == tuesday
    assert all(not day.cells for number, day in enumerate(days) if number != 1)
    year, week, _day = tuesday.isocalendar()
    page = web_as(mia).get(f"/campaigns/calendar/?week={year}-W{week:02d}").content.decode()
    assert 'data-state="launched"' in page and "From user to customer" in page
    later = selectors.week_grid(selectors.week_start(tuesday) + timedelta(days=7), now=at(tuesday, "10:00"))
    assert later[1].cells[0].state == "planned" and later[1].cells[0].wave is None
    this_week = selectors.week_grid(selectors.week_start(timezone.localdate()))
    assert this_week[1].cells[0].state in ("not_planned", "planned", "open")  # never "missed" before it existed
    assert selectors.week_grid(selectors.week_start(tuesday) + timedelta(days=7),
                               now=at(tuesday + timedelta(days=7), "10:00"))[1].cells[0].state == "missed"


def test_a_wave_that_cannot_launch_is_kept_cancelled_with_the_reason(template, run_beat):
    tuesday = next_weekday(1)
    assert run_beat(at(tuesday, "08:45")) == []  # nobody is tagged vip
    wave = Campaign.objects.get(template=template)
    assert wave.status == Campaign.Status.CANCELLED and "empty" in wave.transitions.last().note
    days = selectors.week_grid(selectors.week_start(tuesday), now=at(tuesday, "10:00"))
    assert days[1].cells[0].state == "skipped"
    assert run_beat(at(tuesday, "08:50")) == [] and Campaign.objects.filter(template=template).count() == 1


def test_a_template_window_is_checked(mia, vip):
    with pytest.raises(ValidationError) as error:
        services.save_template(template=CampaignTemplate(name="Late", plan="x", text="vip", weekday=0,
                                                         window_start=time(10), window_end=time(9)), by=mia)
    assert "window_end" in error.value.message_dict
    with override_settings(CONTACT_QUIET_HOURS="21:00-08:00"), pytest.raises(ValidationError) as error:
        services.save_template(template=CampaignTemplate(name="Early", plan="x", text="vip", weekday=0,
                                                         window_start=time(7, 30), window_end=time(9)), by=mia)
    assert "window_start" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        services.save_template(template=CampaignTemplate(name="RR", plan="x", text="vip", weekday=0, strategy="round_robin",
                                                         window_start=time(9), window_end=time(10)), by=mia)
    assert "account_managers" in error.value.message_dict


@override_settings(CAMPAIGN_APPROVAL_REQUIRED=True)
def test_a_template_launches_only_once_a_second_manager_approved_it(template, make_vips, alice, mia, run_beat):
    make_vips(20, owner=alice)
    tuesday = next_weekday(1)
    assert run_beat(at(tuesday, "08:45")) == [] and not Campaign.objects.filter(template=template).exists()
    with pytest.raises(CampaignError):
        services.approve_template(template=template, by=mia)  # its owner
    with pytest.raises(CampaignError):
        services.approve_template(template=template, by=alice)  # not a marketing manager
    checker = UserFactory(username="max", role="marketing_manager")
    services.approve_template(template=template, by=checker)
    [launched] = run_beat(at(tuesday, "08:46"))
    wave = Campaign.objects.get(pk=launched)
    assert wave.approved_by == checker and wave.setting_changes.get(field="approval").by == checker
    template.refresh_from_db()
    template.holdout_pct = 15
    services.save_template(template=template, by=mia)
    template.refresh_from_db()
    assert template.approved_by is None  # a change of what was approved withdraws it
    assert run_beat(at(tuesday + timedelta(days=7), "08:45")) == []


def test_the_monday_review_proposes_for_each_template(template, make_vips, alice, run_beat, web_as, mia):
    make_vips(300, owner=alice)
    tuesday = next_weekday(1)
    [launched] = run_beat(at(tuesday, "08:45"))
    wave = Campaign.objects.get(pk=launched)
    convert_some(wave, alice, every=3)
    year, week, _day = tuesday.isocalendar()
    report = review.weekly_report(f"{year}-W{week:02d}")
    [row] = report["templates"]
    assert row["id"] == template.pk and row["week"]["waves"] == 1
    assert row["week"]["converted"] == len(range(0, wave.task_count, 3))
    action, reason = propose(row["week"], None)
    assert (row["proposal"], row["reason"]) == (action, reason)
    assert f"{str(row['proposal_label']).upper()}: From user to customer" in summary_text(report)
    page = web_as(mia).get(f"/campaigns/reports/weekly/?week={year}-W{week:02d}").content.decode()
    assert f'data-proposal="{action}"' in page
    empty = review.weekly_report(f"{year}-W{week + 1:02d}" if week < 52 else f"{year + 1}-W01")
    assert [(row["id"], row["proposal"]) for row in empty["templates"]] == [(template.pk, "change")]


def test_proposal_rules():
    week = {"waves": 2, "contacted": 500, "success_rate": 0.2, "roi": 0.3, "excluded_share": 0.1,
            "uplift": {"significant": True, "value": 0.05}}
    assert propose(week, 0.15)[0] == "continue"
    assert propose(week | {"contacted": 20}, 0.15)[0] == "continue"
    assert propose(week | {"uplift": {"significant": True, "value": -0.04}}, 0.15)[0] == "stop"
    assert propose(week | {"roi": -0.2}, 0.15)[0] == "change"
    assert propose(week | {"success_rate": 0.05}, 0.15)[0] == "change"
    assert propose(week | {"excluded_share": 0.7}, 0.15)[0] == "change"
    assert propose(week | {"waves": 0}, 0.15)[0] == "change"
