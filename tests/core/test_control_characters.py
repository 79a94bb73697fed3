"""Invisible control characters (U+0007, U+000B, …): refused where people type or import names, and
never able to break a workbook — the weekly review, its Monday e-mail, the customer export."""

import io
from datetime import timedelta

import openpyxl
import pytest
from django.core import mail
from django.utils import timezone

from campaigns.analytics.weekly import send_weekly_report
from customers.importing import import_customers
from customers.models import Customer
from tests.factories import CampaignFactory, CustomerFactory, TaskFactory

pytestmark = pytest.mark.django_db


def test_names_with_control_characters_are_refused_with_the_position(api_as, mia, alice):
    client = api_as(mia)
    campaign = client.post("/api/v1/campaigns/", {"name": "Wake\x07up", "text": "vip"}, format="json")
    assert campaign.status_code == 400 and "U+0007 at position 5" in campaign.json()["name"][0]
    tag = client.post("/api/v1/tags/", {"slug": "gold", "name": "Go\x0bld"}, format="json")
    assert tag.status_code == 400 and "name" in tag.json()
    segment = client.post("/api/v1/segments/", {"name": "\x01VIP", "text": "vip"}, format="json")
    assert segment.status_code == 400 and "name" in segment.json()
    customer = CustomerFactory(owner=alice, name="Before")
    edit = client.patch(f"/api/v1/customers/{customer.pk}/", {"name": "After\x07"}, format="json")
    assert edit.status_code == 400 and Customer.objects.get(pk=customer.pk).name == "Before"
    assert client.post("/api/v1/tags/", {"slug": "gold", "name": "Gold\twith a tab"}, format="json").status_code == 201


def test_an_imported_name_with_a_control_character_is_a_row_error(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(b"external_id,name\nC1,Zhang\x0bSan\nC2,Li Si\n")
    report = import_customers(path)
    assert (report.created, report.rejected) == (1, 1)
    assert report.errors[0]["row"] == 1 and "control character" in report.errors[0]["message"]  # first data row


def test_old_rows_with_control_characters_do_not_break_any_workbook(api_as, web_as, mia, alice, settings):
    """Rows stored before the refusal (or written around it) still export: the character is dropped."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mia.email = "mia@example.com"
    mia.save()
    customer = CustomerFactory(owner=alice, name="Zhang\x07San")
    campaign = CampaignFactory(owner=mia, status="running", name="Wake\x0bup")
    TaskFactory(campaign=campaign, customer=customer, assignee=alice, status="done", contact_result="reached",
                response="converted", completed_at=timezone.now() - timedelta(hours=1))

    workbook = api_as(mia).get("/api/v1/reports/weekly/xlsx/")
    assert workbook.status_code == 200
    names = [row[0] for row in openpyxl.load_workbook(io.BytesIO(workbook.content))["Campaigns"].iter_rows(
        min_row=2, values_only=True)]
    assert names == ["Wakeup"]
    assert web_as(mia).get("/campaigns/reports/weekly/", {"format": "xlsx"}).status_code == 200

    year, week, _day = timezone.localdate().isocalendar()
    assert send_weekly_report(week=f"{year}-W{week:02d}")["sent_to"] == ["mia@example.com"]
    assert len(mail.outbox) == 1 and mail.outbox[0].attachments

    export = web_as(mia).get("/customers/export/", {"format": "xlsx"})
    assert export.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).worksheets[0]
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["ZhangSan"]
