"""History import: row-level errors, idempotence, result tags, and the bank-marketing replay with
its known figures in the API, the weekly report and the dashboard."""

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from campaigns.analytics import history, result_tags
from campaigns.models import Campaign, Task
from customers.importing import ImportFileError, import_customers
from customers.models import CustomerTag
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

BANK_FILE = Path(settings.BASE_DIR) / "data" / "bank-marketing" / "bank-full.csv"


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "history.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_with_problems_are_reported_and_the_rest_imported_once(tmp_path, admin_user):
    for external_id in ("C1", "C2", "C3"):
        CustomerFactory(external_id=external_id)
    path = write(tmp_path, "\n".join([
        "customer_external_id,campaign,channel,contacted_at,result,amount",
        "C1,Spring funds,phone,2026-03-02,converted,12000",
        "C2,Spring funds,sms,2026-03-03,declined,",
        "C3,Spring funds,phone,2026-03-04,unreachable,",
        "C9,Spring funds,phone,2026-03-04,declined,",  # unknown customer
        "C1,Spring funds,phone,2026-03-05,converted,",  # duplicate of line 2
        "C2,Autumn bonds,phone,not a date,declined,",
        "C3,Autumn bonds,phone,2026-09-01,teleported,",
        "C3,Autumn bonds,phone,2026-09-01,converted,-5",
        ",Autumn bonds,phone,2026-09-01,converted,",
    ]))
    report = history.import_history(path)
    assert (report.rows, report.tasks_created, report.rejected) == (9, 3, 6)
    assert {(error["line"], error["column"]) for error in report.errors} == {
        (5, "customer_external_id"), (6, "customer_external_id"), (7, "contacted_at"), (8, "result"),
        (9, "amount"), (10, "customer_external_id")}
    assert all(error["row"] == error["line"] - 1 for error in report.errors)  # data rows, as customer imports
    spring = Campaign.objects.get(name="Spring funds")
    assert spring.status == "completed" and spring.task_count == 3 and not Campaign.objects.filter(
        name="Autumn bonds").exists()
    assert sorted(spring.tasks.values_list("customer__external_id", "contact_result", "response", "amount")) == [
        ("C1", "reached", "converted", 12000), ("C2", "reached", "declined", None), ("C3", "unreachable", "", None)]
    again = history.import_history(path)
    assert again.tasks_created == 0 and again.unchanged == 3 and Task.objects.count() == 3


def test_a_file_without_the_columns_changes_nothing(tmp_path):
    path = write(tmp_path, "who,what\nC1,converted\n")
    with pytest.raises(ImportFileError, match="lacks the columns"):
        history.import_history(path)
    assert not Campaign.objects.exists()


def test_result_tags_close_the_loop_and_correct_themselves(tmp_path, admin_user):
    for external_id in ("C1", "C2", "C3"):
        CustomerFactory(external_id=external_id)
    path = write(tmp_path, "customer_external_id,campaign,channel,contacted_at,result,amount\n"
                           "C1,Spring funds,phone,2026-03-02,converted,1\n"
                           "C2,Spring funds,phone,2026-03-02,declined,\n"
                           "C3,Spring funds,phone,2026-03-02,wrong_number,\n")
    history.import_history(path)
    campaign = Campaign.objects.get(name="Spring funds")
    assert result_tags.tag_results(campaign=campaign) == {"spring-funds-converted": 1, "spring-funds-interested": 0,
                                                      "spring-funds-declined": 1, "spring-funds-unreachable": 1}
    Task.objects.filter(campaign=campaign, customer__external_id="C2").update(response="converted")
    result_tags.tag_results(campaign=campaign)
    holders = dict(CustomerTag.objects.filter(tag__slug__startswith="spring-funds").values_list(
        "customer__external_id", "tag__slug").order_by("customer__external_id"))
    assert holders == {"C1": "spring-funds-converted", "C2": "spring-funds-converted", "C3": "spring-funds-unreachable"}

    from segments.services import preview  # the next segment can use them

    assert preview(text="spring-funds-converted")["count"] == 2


def test_bank_marketing_replay_reports_the_known_figures_everywhere(api_as, web_as, mia, admin_user):
    import_customers(BANK_FILE, mapping="bank-marketing")
    report = history.import_history(BANK_FILE)
    assert report.rejected == 0 and report.rows == 45_211 + 6_412  # + poutcome success/failure
    campaign = Campaign.objects.get(slug="bank-term-deposit")

    stats = api_as(mia).get(f"/api/v1/campaigns/{campaign.pk}/stats/").json()
    assert (stats["contacted"], stats["converted"], stats["success_rate"]) == (45_211, 5_289, 0.117)
    channels = {row["channel"]: (row["contacted"], row["converted"], row["success_rate"]) for row in stats["by_channel"]}
    assert channels == {"cellular": (29_285, 4_369, 0.1492), "telephone": (2_906, 390, 0.1342),
                        "unknown": (13_020, 530, 0.0407)}

    # Imported history belongs to the weeks of its contacts, never to the week it was imported in.
    this_week = api_as(mia).get("/api/v1/reports/weekly/").json()
    assert "bank-term-deposit" not in {row["slug"] for row in this_week["campaigns"]}
    campaign.refresh_from_db()
    year, week, _day = timezone.localtime(campaign.closed_at).isocalendar()  # the last contacts
    weekly = api_as(mia).get(f"/api/v1/reports/weekly/?week={year}-W{week:02d}").json()
    row = next(row for row in weekly["campaigns"] if row["slug"] == "bank-term-deposit")
    assert (row["to_date"]["contacted"], row["to_date"]["converted"], row["to_date"]["success_rate"]) == (
        45_211, 5_289, 0.117)
    to_date = {row["channel"]: row["success_rate"] for row in weekly["to_date"]["by_channel"]}
    assert (to_date["cellular"], to_date["telephone"], to_date["unknown"]) == (0.1492, 0.1342, 0.0407)
    # A review of an earlier week counts what was known at its end, whenever it is opened.
    earlier = api_as(mia).get("/api/v1/reports/weekly/?week=2009-W20").json()
    row = next(row for row in earlier["campaigns"] if row["slug"] == "bank-term-deposit")
    end = datetime.combine(date.fromisocalendar(2009, 20, 7) + timedelta(days=1), time.min,
                           tzinfo=timezone.get_current_timezone())
    before = Task.objects.filter(campaign=campaign, completed_at__lt=end)
    assert 0 < row["to_date"]["contacted"] == before.count() < 45_211
    assert row["to_date"]["converted"] == before.filter(response="converted").count()
    assert api_as(mia).get("/api/v1/reports/weekly/?week=2009-W20").json()["campaigns"] == earlier["campaigns"]

    dashboard = web_as(mia).get(f"/campaigns/reports/?campaign={campaign.pk}").content.decode()
    assert 'data-campaign="bank-term-deposit"' in dashboard
    bank_row = dashboard.split('data-campaign="bank-term-deposit"')[1].split("</tr>")[0]
    assert "45,211" in bank_row and "5,289" in bank_row and "11.70 %" in bank_row
    for channel, rate in (("cellular", "14.92 %"), ("telephone", "13.42 %"), ("unknown", "4.07 %")):
        channel_row = dashboard.split(f'data-row="{channel}"')[1].split("</tr>")[0]
        assert rate in channel_row


def test_history_uploads_are_limited_in_type_and_size(web_as, mia, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.models import Job

    client = web_as(mia)
    wrong = client.post("/campaigns/reports/history/", {"file": SimpleUploadedFile("x.exe", b"MZ")})
    assert "Upload a CSV or XLSX file" in wrong.content.decode()
    settings.IMPORT_MAX_UPLOAD_BYTES = 10
    big = client.post("/campaigns/reports/history/", {"file": SimpleUploadedFile("h.csv", b"x" * 100)})
    assert "larger than" in big.content.decode()
    assert not Job.objects.exists()


def test_history_never_merges_into_a_campaign_run_in_loopcrm(tmp_path, admin_user, mia):
    """Issue 20: rows named after a running campaign gave it a task and 1,000,000 revenue."""
    from tests.factories import CampaignFactory

    CustomerFactory(external_id="C1")
    CustomerFactory(external_id="C2")
    running = CampaignFactory(name="Autumn bonds", owner=mia, status="running")
    path = write(tmp_path, "customer_external_id,campaign,channel,contacted_at,result,amount\n"
                           "C1,Autumn bonds,phone,2026-09-01,converted,1000000\n"
                           "C2,Spring funds,phone,2026-03-02,converted,10\n")
    report = history.import_history(path)
    assert (report.tasks_created, report.rejected) == (1, 1)
    assert report.errors[0]["row"] == 1 and "created in LoopCRM" in report.errors[0]["message"]
    assert not running.tasks.exists()
    spring = Campaign.objects.get(name="Spring funds")
    assert spring.imported and not Campaign.objects.get(pk=running.pk).imported
    again = write(tmp_path, "customer_external_id,campaign,channel,contacted_at,result,amount\n"
                            "C1,Spring funds,phone,2026-03-01,declined,\n")
    assert history.import_history(again).tasks_created == 1  # imported campaigns still take more history
    assert Campaign.objects.get(pk=spring.pk).launched_at.date() == date(2026, 3, 1)


def test_ambiguous_dates_are_refused_unless_the_format_is_chosen_and_times_are_kept(tmp_path, admin_user):
    """Issue 14: 03/04/2025 was read month-first without a word, and every contact became noon."""
    from zoneinfo import ZoneInfo

    for external_id in ("C1", "C2", "C3"):
        CustomerFactory(external_id=external_id)
    rows = ("customer_external_id,campaign,channel,contacted_at,result,amount\n"
            "C1,Spring funds,phone,03/04/2025,converted,10\n"
            "C2,Spring funds,phone,2025-04-05 09:30,declined,\n"
            "C3,Spring funds,phone,2025-04-06,declined,\n")
    report = history.import_history(write(tmp_path, rows))
    assert report.tasks_created == 2 and report.errors[0]["line"] == 2
    assert "could be 3 April or 4 March" in report.errors[0]["message"]
    zone = ZoneInfo(settings.TIME_ZONE)
    times = {task.customer.external_id: task.completed_at.astimezone(zone) for task in Task.objects.all()}
    assert (times["C2"].hour, times["C2"].minute) == (9, 30) and times["C3"].hour == 12
    again = history.import_history(write(tmp_path, rows), date_format="dmy")
    assert again.tasks_created == 1
    assert Task.objects.get(customer__external_id="C1").completed_at.astimezone(zone).date() == date(2025, 4, 3)


def test_the_import_history_command_runs(tmp_path, admin_user, capsys):
    """It imported modules that no longer exist (a layout change) and failed before reading a line."""
    from django.core.management import call_command

    CustomerFactory(external_id="C1")
    path = write(tmp_path, "customer_external_id,campaign,channel,contacted_at,result,amount\n"
                           "C1,Spring funds,phone,04/03/2025,converted,10\n")
    call_command("import_history", str(path), "--date-format", "mdy")
    assert "tasks created 1" in capsys.readouterr().out
    assert Task.objects.get().completed_at.date() == date(2025, 4, 3)
    assert CustomerTag.objects.filter(tag__slug__endswith="-converted").count() == 1


def test_every_management_command_loads():
    from django.core.management import get_commands, load_command_class

    ours = {name: app for name, app in get_commands().items() if app in ("accounts", "campaigns", "customers",
                                                                         "segments", "core")}
    assert "import_history" in ours and "seed_demo" in ours
    for name, app in ours.items():
        load_command_class(app, name)
