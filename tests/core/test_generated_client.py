"""A client generated from the served schema (openapi-python-client, pinned) imports and drives the
whole loop over real HTTP: token → preview → segment → campaign → launch → tasks as two account
managers → outcomes (unreachable, refused, a call-back and its follow-up, a stale edit: 409) →
stats → weekly review as JSON and XLSX. Every figure is then checked against what the test logged."""

import importlib
import io
import os
import pkgutil
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import openpyxl
import pytest
from django.utils import timezone

from tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db(transaction=True)

PACKAGE = "loopcrm_client"
CONFIG = Path(__file__).resolve().parents[2] / "docs" / "openapi-client.yml"


@pytest.fixture
def generated_client(live_server, tmp_path):
    schema = httpx.get(f"{live_server.url}/api/schema/", params={"format": "json"}, timeout=30)
    assert schema.status_code == 200
    (tmp_path / "schema.json").write_bytes(schema.content)
    tools = str(Path(sys.executable).parent)  # its post-generation hook runs ruff from the venv
    run = subprocess.run(
        [os.path.join(tools, "openapi-python-client"), "generate", "--path", str(tmp_path / "schema.json"),
         "--output-path", str(tmp_path / PACKAGE), "--meta", "none", "--config", str(CONFIG)],
        capture_output=True, text=True, env={**os.environ, "PATH": tools + os.pathsep + os.environ.get("PATH", "")},
        timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        package = importlib.import_module(PACKAGE)
        failures = {}
        for module in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."):
            try:
                importlib.import_module(module.name)
            except Exception as error:  # noqa: BLE001 - every failure is reported at once
                failures[module.name] = repr(error)
        assert not failures, failures
        yield package
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def op(name: str):
    return importlib.import_module(f"{PACKAGE}.api.{name}")


def models():
    return importlib.import_module(f"{PACKAGE}.models")


def sign_in(package, base_url: str, username: str):
    anonymous = package.Client(base_url=base_url, raise_on_unexpected_status=True)
    answer = op("auth.v1_auth_token_create").sync_detailed(
        client=anonymous, body=models().CredentialsRequest(username=username, password="pw"))
    assert answer.status_code == 200, answer.content
    return package.AuthenticatedClient(base_url=base_url, token=answer.parsed.token, raise_on_unexpected_status=True)


def log(client, task, version=None, **outcome):
    body = models().PatchedOutcomeInputRequest.from_dict({"version": version or task.version, **outcome})
    return op("tasks.v1_tasks_partial_update").sync_detailed(id=task.id, client=client, body=body)


def test_a_generated_client_drives_the_loop(generated_client, live_server, mia, alice, bob):
    for user in (mia, alice, bob):
        user.set_password("pw")
        user.save()
    vip = TagFactory(slug="vip")
    for owner, count in ((alice, 6), (bob, 4)):
        for _n in range(count):
            CustomerFactory(owner=owner, branch=owner.branch, tags=[vip])
    CustomerFactory(owner=alice)  # not in the audience
    package, url, m = generated_client, live_server.url, models()
    manager = sign_in(package, url, "mia")

    preview = op("segments.v1_segments_preview_create").sync_detailed(
        client=manager, body=m.ExpressionInputRequest(text="vip"))
    assert preview.status_code == 200 and preview.parsed.count == 10
    bad = op("segments.v1_segments_preview_create").sync_detailed(
        client=manager, body=m.ExpressionInputRequest(text="vip AND"))
    assert bad.status_code == 400 and bad.parsed.position is not None
    segment = op("segments.v1_segments_create").sync_detailed(
        client=manager, body=m.SegmentRequest.from_dict({"name": "VIPs", "text": "vip"}))
    assert segment.status_code == 201, segment.content
    campaign = op("campaigns.v1_campaigns_create").sync_detailed(client=manager, body=m.CampaignRequest.from_dict({
        "name": "VIP recall", "channel": "phone", "segment": segment.parsed.id, "holdout_pct": "0",
        "strategy": "owner", "cost_fixed": "100.00", "cost_per_contact": "2.50"}))
    assert campaign.status_code == 201, campaign.content
    campaign_id = campaign.parsed.id
    launch = op("campaigns.v1_campaigns_launch_create").sync_detailed(id=campaign_id, client=manager)
    assert launch.status_code == 202, launch.content
    job = op("jobs.v1_jobs_retrieve").sync_detailed(id=launch.parsed.job, client=manager).parsed
    assert job.state == "succeeded" and job.progress == 1.0 and job.processed == job.total == 10
    again = op("campaigns.v1_campaigns_launch_create").sync_detailed(id=campaign_id, client=manager)
    assert again.status_code == 409 and again.parsed.detail

    workers = {name: sign_in(package, url, name) for name in ("alice", "bob")}
    queues = {}
    for name, client in workers.items():
        page = op("tasks.v1_tasks_list").sync_detailed(client=client, campaign=campaign_id).parsed
        queues[name] = sorted(page.results, key=lambda task: task.id)
        assert {task.assignee for task in page.results} == {name}
    assert (len(queues["alice"]), len(queues["bob"])) == (6, 4)
    first, second, third, fourth, fifth, _untouched = queues["alice"]
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    alice_client, bob_client = workers["alice"], workers["bob"]
    assert log(alice_client, first, contact_result="reached", response="converted", amount="1000.50").status_code == 200
    assert log(alice_client, second, contact_result="unreachable").status_code == 200
    assert log(alice_client, third, contact_result="refused").status_code == 200
    assert log(alice_client, fourth, contact_result="reached", response="call_back",
               next_follow_up=tomorrow).status_code == 200
    assert log(alice_client, fifth, contact_result="reached", response="declined",
               failure_reason="price").status_code == 200
    stale = log(alice_client, second, contact_result="reached", response="interested")  # version 1 again
    assert stale.status_code == 409 and stale.parsed.current.version == 2
    invalid = log(alice_client, first, version=2, contact_result="reached")  # reached, but no response
    assert invalid.status_code == 400 and "response" in invalid.parsed.additional_properties
    foreign = log(bob_client, first, contact_result="unreachable")
    assert foreign.status_code == 404
    # The call-back opened a follow-up: another attempt on the same customer, converted on the phone.
    follow_up = next(task for task in op("tasks.v1_tasks_list").sync_detailed(
        client=alice_client, campaign=campaign_id).parsed.results if task.customer == fourth.customer
        and task.id != fourth.id)
    assert log(alice_client, follow_up, contact_result="reached", response="converted",
               amount="250.25").status_code == 200
    bob_first = queues["bob"][0]
    assert log(bob_client, bob_first, contact_result="reached", response="not_interested",
               failure_reason="risk").status_code == 200

    stats = op("campaigns.v1_campaigns_stats_retrieve").sync_detailed(id=campaign_id, client=manager)
    assert stats.status_code == 200
    figures = stats.parsed
    # What the test logged: 10 customers, 6 contacted (alice 5 + bob 1) in 7 attempts, 2 converted.
    assert (figures.tasks, figures.customers, figures.contacted, figures.attempts, figures.converted) == (10, 10, 6, 7, 2)
    assert (figures.reached, figures.interested) == (4, 2)  # converted, call-back→converted, declined, not interested
    assert figures.success_rate == round(2 / 6, 4) and figures.contact_rate == round(6 / 10, 4)
    assert figures.revenue == "1250.75" and figures.cost == "117.50"  # 100 + 7 attempts × 2.50
    assert figures.roi == round(float((Decimal("1250.75") - Decimal("117.50")) / Decimal("117.50")), 4)
    managers = {row.account_manager: (row.tasks, row.contacted, row.converted) for row in figures.by_account_manager}
    assert managers == {"alice": (6, 5, 2), "bob": (4, 1, 0)}
    assert not figures.uplift.enough_data and figures.uplift.value is None

    weekly = op("reports.v1_reports_weekly_retrieve").sync_detailed(client=manager)
    assert weekly.status_code == 200
    row = next(row for row in weekly.parsed.campaigns if row.id == campaign_id)
    assert (row.to_date.contacted, row.to_date.converted, row.to_date.revenue) == (6, 2, "1250.75")
    assert weekly.parsed.summary.contacted == 6 and weekly.parsed.summary.attempts == 7
    workbook = op("reports.v1_reports_weekly_xlsx_retrieve").sync_detailed(client=manager)
    assert workbook.status_code == 200
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheets = openpyxl.load_workbook(io.BytesIO(workbook.content))
    summary = {row[0]: row[1] for row in sheets.worksheets[0].iter_rows(values_only=True)}
    assert summary["Contacted"] == 6 and summary["Revenue"] == pytest.approx(1250.75)
