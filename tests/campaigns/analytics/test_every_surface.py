"""One campaign worked as account managers work it — call-backs and their follow-ups included —
then every figure on every surface (stats API, detail page, list, dashboard, weekly JSON and XLSX,
CSV exports) against a computation from what this test logged, per launched customer."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.utils import timezone

from campaigns.lifecycle.services import queue_launch
from campaigns.models import Campaign, Task
from campaigns.workspace.services import log_outcome
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def percent(value, digits=2) -> str:
    return f"{value * 100:.{digits}f} %"


@pytest.fixture
def worked(mia, alice, bob, make_vips, django_capture_on_commit_callbacks):
    """12 customers (alice 7, bob 5); what was logged is kept in `log` as (manager, customer, outcome, amount)."""
    make_vips(7, owner=alice, branch=alice.branch)
    make_vips(5, owner=bob, branch=bob.branch)
    campaign = CampaignFactory(owner=mia, text="vip", holdout_pct=0, strategy="owner", cost_fixed=Decimal("300.00"),
                               cost_per_contact=Decimal("4.00"))
    with django_capture_on_commit_callbacks(execute=True):
        queue_launch(campaign=campaign, by=mia)
    tomorrow = timezone.localdate() + timedelta(days=1)
    log = []

    def work(task, user, outcome, amount=None, follow_up=None):
        contact, response = ("reached", outcome) if outcome in Task.Response.values else (outcome, "")
        reason = "price" if response in ("declined", "not_interested") else ""
        with django_capture_on_commit_callbacks(execute=True):
            done = log_outcome(task=task, by=user, version=task.version, contact_result=contact, response=response,
                               failure_reason=reason, amount=amount, next_follow_up=follow_up)
        log.append((user.username, task.customer_id, outcome, Decimal(amount or 0)))
        return done

    tasks = {user: list(Task.objects.filter(campaign=campaign, assignee=user).order_by("id")) for user in (alice, bob)}
    a = tasks[alice]
    work(a[0], alice, "converted", "12000.00")
    work(a[1], alice, "unreachable")
    work(a[2], alice, "refused")
    work(a[3], alice, "declined")
    first = work(a[4], alice, "call_back", follow_up=tomorrow)
    second = work(Task.objects.get(follow_up_of=first), alice, "call_back", follow_up=tomorrow)
    work(Task.objects.get(follow_up_of=second), alice, "converted", "3500.50")  # third attempt, one customer
    work(a[5], alice, "call_back", follow_up=tomorrow)  # its follow-up stays open
    b = tasks[bob]
    work(b[0], bob, "converted", "800.25")
    work(b[1], bob, "not_interested")
    work(b[2], bob, "wrong_number")
    return campaign, log


def expected_from(log, customers: int, cost_fixed: Decimal, cost_per_contact: Decimal) -> dict:
    by_customer = {}
    for _manager, customer, outcome, amount in log:
        row = by_customer.setdefault(customer, {"outcomes": [], "revenue": Decimal(0)})
        row["outcomes"].append(outcome)
        row["revenue"] += amount
    contacted = len(by_customer)
    converted = sum("converted" in row["outcomes"] for row in by_customer.values())
    revenue = sum((row["revenue"] for row in by_customer.values()), Decimal("0.00"))
    cost = cost_fixed + cost_per_contact * len(log)
    return {"customers": customers, "contacted": contacted, "attempts": len(log), "converted": converted,
            "revenue": revenue, "cost": cost, "success_rate": round(converted / contacted, 4),
            "contact_rate": round(contacted / customers, 4), "roi": round(float((revenue - cost) / cost), 4)}


def test_every_surface_agrees_with_what_was_logged(worked, api_as, web_as, mia):
    campaign, log = worked
    want = expected_from(log, 12, campaign.cost_fixed, campaign.cost_per_contact)
    assert want["contacted"] == 9 and want["attempts"] == 11 and want["converted"] == 3  # the log, read by eye

    stats = api_as(mia).get(f"/api/v1/campaigns/{campaign.pk}/stats/").json()
    assert {key: stats[key] for key in ("tasks", "customers", "contacted", "attempts", "converted")} == {
        "tasks": 12, "customers": 12, "contacted": 9, "attempts": 11, "converted": 3}
    assert (stats["success_rate"], stats["contact_rate"], stats["roi"]) == (
        want["success_rate"], want["contact_rate"], want["roi"])
    assert (stats["revenue"], stats["cost"]) == (str(want["revenue"]), str(want["cost"]))  # exact decimal strings
    managers = {row["account_manager"]: (row["tasks"], row["contacted"], row["converted"])
                for row in stats["by_account_manager"]}
    assert managers == {"alice": (7, 6, 2), "bob": (5, 3, 1)}

    page = web_as(mia).get(f"/campaigns/{campaign.pk}/").content.decode()

    def kpi(name):
        return re.search(rf'data-kpi="{name}">([^<]*)<', page).group(1)

    assert (kpi("customers"), kpi("converted"), kpi("success_rate"), kpi("roi")) == (
        "12", "3", percent(want["success_rate"]), percent(want["roi"], 0))
    assert re.search(r'data-figure="contact_rate">([^<]*)<', page).group(1) == percent(want["contact_rate"])
    assert re.search(r'data-figure="revenue">([^<]*)<', page).group(1) == f"{want['revenue']:,.2f}"
    assert re.search(r'data-figure="cost">([^<]*)<', page).group(1) == f"{want['cost']:,.2f}"
    alice_row = page.split('data-manager="alice"')[1].split("</tr>")[0]
    assert re.search(r"data-customers>(\d+)<", alice_row).group(1) == "7"

    listing = web_as(mia).get("/campaigns/").content.decode()
    row = listing.split(f'href="/campaigns/{campaign.pk}/"')[1].split("</tr>")[0]
    assert percent(want["success_rate"]) in row and percent(want["roi"], 0) in row

    dashboard = web_as(mia).get(f"/campaigns/reports/?campaign={campaign.pk}").content.decode()
    for name in ("contacted", "converted"):
        assert re.search(rf'data-kpi="{name}">([^<]*)<', dashboard).group(1) == str(want[name])
    assert re.search(r'data-kpi="success_rate">([^<]*)<', dashboard).group(1) == percent(want["success_rate"])
    exported = web_as(mia).get(f"/campaigns/reports/?campaign={campaign.pk}&export=campaigns")
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode("utf-8-sig"))))
    assert rows[1][5:11] == ["9", "3", str(want["success_rate"]), str(want["revenue"]), str(want["cost"]),
                             str(want["roi"])]
    funnel = web_as(mia).get(f"/campaigns/reports/?campaign={campaign.pk}&export=funnel")
    stages = [row[1] for row in csv.reader(io.StringIO(b"".join(funnel.streaming_content).decode("utf-8-sig")))][1:]
    assert stages == ["12", "9", "6", "4", "3"]  # launched ⊇ contacted ⊇ reached ⊇ interested ⊇ converted

    weekly = api_as(mia).get("/api/v1/reports/weekly/").json()
    assert (weekly["summary"]["contacted"], weekly["summary"]["attempts"], weekly["summary"]["converted"]) == (9, 11, 3)
    assert weekly["summary"]["launched"] == 12 and "done_rate" not in weekly["summary"]
    row = next(row for row in weekly["campaigns"] if row["id"] == campaign.pk)
    assert (row["to_date"]["contacted"], row["to_date"]["converted"], row["to_date"]["revenue"],
            row["to_date"]["cost"], row["to_date"]["roi"]) == (9, 3, str(want["revenue"]), str(want["cost"]),
                                                               want["roi"])

    workbook = openpyxl.load_workbook(io.BytesIO(api_as(mia).get("/api/v1/reports/weekly/xlsx/").content))
    summary = {row[0].value: row[1] for row in workbook["Summary"].iter_rows()}
    assert summary["Contacted"].value == 9 and summary["Contact attempts"].value == 11
    assert summary["Revenue"].value == want["revenue"] and summary["Revenue"].number_format == "#,##0.00"
    assert summary["Success rate"].value == want["success_rate"] and summary["Success rate"].number_format == "0.00%"
    assert summary["ROI"].number_format == "0%"
    sheet = workbook["Campaigns"]
    header = [cell.value for cell in sheet[1]]
    values = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert values["Revenue to date"].value == want["revenue"] and values["Cost to date"].value == want["cost"]
    assert values["Status"].value == "Running" and values["Recommendation"].value == "Keep"  # labels, not codes


def test_the_tasks_export_writes_local_times_with_their_offset(worked, web_as, mia, settings):
    campaign, _log = worked
    export = web_as(mia).get(f"/campaigns/{campaign.pk}/tasks.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))
    done = [row for row in rows if row["Completed"]]
    offset = timezone.localtime().isoformat()[-6:]  # e.g. +08:00 for Asia/Shanghai
    assert len(done) == 11 and all(row["Completed"].endswith(offset) for row in done)
    logged = Task.objects.filter(campaign=campaign).exclude(completed_at=None).order_by("id")
    assert [row["Completed"] for row in done] == [
        timezone.localtime(task.completed_at).isoformat(timespec="seconds") for task in logged]


def test_sla_due_dates_come_from_the_local_date(mia, make_vips, alice, django_capture_on_commit_callbacks, settings,
                                                 monkeypatch):
    """A launch at 07:00 in Shanghai is still the previous day in UTC: the due date counts from the local day."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.utils import timezone as django_timezone

    settings.TIME_ZONE = "Asia/Shanghai"
    django_timezone.activate("Asia/Shanghai")
    morning = dt.datetime(2026, 3, 2, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    monkeypatch.setattr(django_timezone, "now", lambda: morning.astimezone(dt.UTC))
    make_vips(2, owner=alice)
    campaign = CampaignFactory(owner=mia, text="vip", holdout_pct=0, sla_days=3, due_date=None)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            queue_launch(campaign=campaign, by=mia)
    finally:
        django_timezone.deactivate()
    assert set(Task.objects.filter(campaign=campaign).values_list("due_date", flat=True)) == {dt.date(2026, 3, 5)}
    assert Campaign.objects.get(pk=campaign.pk).status == "running"


def test_the_chinese_workbook_has_labels_and_numbers(worked, api_as, mia):
    campaign, log = worked
    answer = api_as(mia).get("/api/v1/reports/weekly/xlsx/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    workbook = openpyxl.load_workbook(io.BytesIO(answer.content))
    sheet = workbook["营销活动"]
    values = {header.value: cell for header, cell in zip(sheet[1], sheet[2], strict=True)}
    assert values["状态"].value == "运行中" and values["建议"].value == "保持"
    assert values["累计收入"].value == expected_from(log, 12, campaign.cost_fixed, campaign.cost_per_contact)["revenue"]
    assert "摘要" in workbook.sheetnames
