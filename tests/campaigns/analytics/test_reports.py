"""The dashboard, the weekly operations review (page, XLSX, JSON, e-mail) and their rules."""

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from openpyxl import load_workbook

from campaigns.analytics import reports, weekly
from tests.factories import CampaignFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def week_of_work(alice, bob):
    """Two campaigns with outcomes logged this week (and one outcome last week)."""
    now = timezone.now()
    funds = CampaignFactory(name="Funds", status="running", cost_fixed=100, cost_per_contact=1,
                            launched_at=now)
    bonds = CampaignFactory(name="Bonds", status="running", cost_fixed=0, cost_per_contact=0,
                            launched_at=now - timedelta(days=30))
    for number in range(10):
        TaskFactory(campaign=funds, assignee=alice, status="done", contact_result="reached", channel="phone",
                    response="converted" if number < 3 else "declined", failure_reason="" if number < 3 else "price",
                    amount=Decimal(200) if number < 3 else None, completed_at=now)
    TaskFactory(campaign=bonds, assignee=bob, status="done", contact_result="unreachable", channel="sms",
                completed_at=now)
    TaskFactory(campaign=bonds, assignee=bob, status="done", contact_result="reached", response="converted",
                channel="sms", completed_at=now - timedelta(days=8))
    return funds, bonds


def this_week() -> str:
    year, week, _day = timezone.localdate().isocalendar()
    return f"{year}-W{week:02d}"


def test_weekly_json_has_the_week_and_every_campaign_with_a_recommendation(api_as, mia, week_of_work):
    funds, bonds = week_of_work
    body = api_as(mia).get(f"/api/v1/reports/weekly/?week={this_week()}").json()
    assert body["week"] == this_week()
    assert (body["summary"]["contacted"], body["summary"]["converted"]) == (11, 3)
    assert body["summary"]["success_rate"] == round(3 / 11, 4)
    assert Decimal(body["summary"]["cost"]) == Decimal(100 + 10)  # Funds launched this week: fixed + 10 contacts
    rows = {row["name"]: row for row in body["campaigns"]}
    assert set(rows) == {"Funds", "Bonds"}
    assert rows["Bonds"]["to_date"]["contacted"] == 2 and rows["Bonds"]["period"]["contacted"] == 1
    assert rows["Funds"]["action"] in {"stop", "keep", "grow"} and rows["Funds"]["reason"]
    assert {row["channel"] for row in body["by_channel"]} == {"phone", "sms"}
    assert body["by_failure_reason"] == [{"failure_reason": "price", "label": "Price / fees", "count": 7}]


def test_a_malformed_week_is_a_400_that_says_the_format(api_as, mia):
    response = api_as(mia).get("/api/v1/reports/weekly/?week=2026-47")
    assert response.status_code == 400 and "YYYY-Www" in response.json()["week"][0]


def test_weekly_workbook_has_a_sheet_per_breakdown(api_as, web_as, mia, week_of_work):
    for response in (api_as(mia).get(f"/api/v1/reports/weekly/?week={this_week()}&format=xlsx"),
                     web_as(mia).get(f"/campaigns/reports/weekly/?week={this_week()}&format=xlsx")):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        workbook = load_workbook(io.BytesIO(response.content))
        assert {"Summary", "Campaigns", "Channels", "Account managers", "Branches", "Failure reasons",
                "Days"} <= set(workbook.sheetnames)
        names = [row[0] for row in workbook["Campaigns"].iter_rows(min_row=2, values_only=True)]
        assert sorted(names) == ["Bonds", "Funds"]


def test_weekly_page_and_dashboard_render_with_tables_and_exports(web_as, mia, week_of_work):
    client = web_as(mia)
    weekly = client.get(f"/campaigns/reports/weekly/?week={this_week()}").content.decode()
    assert "Funds" in weekly and "Rules" in weekly
    dashboard = client.get("/campaigns/reports/?preset=4w")
    body = dashboard.content.decode()
    assert 'data-kpi="contacted">12<' in body and 'data-chart="quadrant"' in body and "chart.umd.min.js" in body
    export = client.get("/campaigns/reports/?preset=4w&export=managers")
    assert b"alice" in b"".join(export.streaming_content)


def test_reports_are_for_managers_only(api_as, web_as, alice):
    assert api_as(alice).get("/api/v1/reports/weekly/").status_code == 403
    for path in ("/campaigns/reports/", "/campaigns/reports/weekly/", "/campaigns/reports/history/"):
        assert web_as(alice).get(path).status_code == 403


def test_weekly_email_goes_to_marketing_managers_with_the_workbook(week_of_work):
    UserFactory(username="mm1", role="marketing_manager", email="mm1@bank.example")
    UserFactory(username="am9", role="account_manager", email="am9@bank.example")
    sent = weekly.send_weekly_report(week=this_week())
    assert sent["sent_to"] == ["mm1@bank.example"]
    message = mail.outbox[0]
    assert this_week() in message.subject and "Funds" in message.body
    assert message.attachments[0][0] == f"loopcrm-weekly-{this_week()}.xlsx"


def test_beat_sends_the_review_on_monday_morning():
    entry = settings.CELERY_BEAT_SCHEDULE["weekly-operations-review"]
    assert entry["task"] == "campaigns.jobs.send_weekly_report"
    assert entry["schedule"].day_of_week == {1} and entry["schedule"].hour == {settings.WEEKLY_REPORT_HOUR}


@pytest.mark.parametrize("figures, average, action", [
    ({"contacted": 20, "roi": -0.9, "success_rate": 0.0}, 0.1, "keep"),  # too early to judge
    ({"contacted": 500, "roi": -0.2, "success_rate": 0.1}, 0.1, "stop"),
    ({"contacted": 500, "roi": None, "success_rate": 0.02}, 0.1, "stop"),
    ({"contacted": 500, "roi": 0.8, "success_rate": 0.12}, 0.1, "grow"),
    ({"contacted": 500, "roi": None, "success_rate": 0.2}, 0.1, "grow"),
    ({"contacted": 500, "roi": 0.8, "success_rate": 0.12,
      "uplift": {"value": -0.05, "significant": True}}, 0.1, "keep"),
    ({"contacted": 500, "roi": 0.1, "success_rate": 0.1}, 0.1, "keep"),
])
def test_stop_keep_grow_rules(figures, average, action):
    assert reports.recommend(figures, average)[0] == action


def test_iso_week_periods():
    period = reports.iso_week("2026-W01")
    assert (period.start.isoformat(), period.end.isoformat(), period.label) == ("2025-12-29", "2026-01-04", "2026-W01")
    with pytest.raises(ValueError):
        reports.iso_week("2026-W54")


def test_trend_carries_cost_and_roi_and_results_group_by_audience(week_of_work):
    data = reports.activity(reports.Period(timezone.localdate() - timedelta(days=27), timezone.localdate(), "4w"))
    year, week, _day = timezone.localdate().isocalendar()
    this = next(row for row in data["trend"] if row["period"] == f"{year}-W{week:02d}")
    assert (this["contacted"], this["converted"], this["revenue"]) == (11, 3, Decimal(600))
    assert this["cost"] == Decimal(110)  # 10 contacts × 1 + the budget of Funds, launched this week
    assert this["roi"] == round((600 - 110) / 110, 4)
    assert data["by_segment"] == [{**data["by_segment"][0], "segment": "vip", "contacted": 12, "converted": 4}]


def test_reasons_are_labelled_and_an_untried_channel_gets_no_verdict(web_as, mia, alice):
    """Issue 14: reasons showed as codes; a channel with no contacts was told "cut"."""
    from campaigns.analytics.reports import _quadrants

    campaign = CampaignFactory(owner=mia, status="running")
    TaskFactory(campaign=campaign, assignee=alice, status="done", contact_result="reached", response="declined",
                failure_reason="price", completed_at=timezone.now())
    page = web_as(mia).get("/campaigns/reports/").content.decode()
    assert "Price / fees" in page
    detail = web_as(mia).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert "Price / fees" in detail
    rows = _quadrants([{"channel": "sms", "contacted": 0, "success_rate": None},
                       {"channel": "phone", "contacted": 10, "success_rate": 0.1}], 0.2)
    assert [row["strategy"] for row in rows] == ["no contacts yet", "improve targeting"]
