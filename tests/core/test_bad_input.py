"""Issue 20: bad input anywhere is a clear 4xx (or is ignored with a message), never a 500.

Probe-style: every list page and API list, each filter parameter given values no form would send
(NUL, overflowing numbers, the calendar's edges), as a marketing manager with production settings'
error handling (the test client raises nothing: it reports the status)."""

import json

import pytest

from tests.factories import CampaignFactory, CustomerFactory, TagFactory, TaskFactory

NASTY = ["L\x00x", "1e309", "-1e309", "NaN", "Infinity", "99999999999999999999999", "-99999999999999999999999",
         "9999-12-31", "0001-01-01", "10000-01-01", "1" * 400]

PAGES = {
    "/customers/": ["search", "tag", "branch", "owner", "lifecycle_stage", "risk_level", "assets_min", "assets_max",
                    "page", "per_page", "sort"],
    "/customers/export/": ["search", "risk_level", "assets_min", "assets_max"],
    "/customers/tags/": ["search", "category", "source", "page"],
    "/campaigns/": ["search", "status", "channel", "page", "sort"],
    "/campaigns/my-tasks/": ["bucket", "campaign", "priority", "q", "sort", "page"],
    "/campaigns/reports/": ["from", "to", "preset", "campaign", "export"],
    "/campaigns/reports/weekly/": ["week"],
    "/segments/": ["search", "page"],
    "/api/v1/customers/": ["search", "tag", "branch", "owner", "risk_level", "assets_min", "assets_max", "page",
                           "page_size"],
    "/api/v1/tags/": ["search", "category", "source", "page", "page_size"],
    "/api/v1/tasks/": ["campaign", "status", "group", "assignee", "due_before", "due_after", "customer", "page"],
    "/api/v1/campaigns/": ["search", "status", "channel", "page"],
    "/api/v1/reports/weekly/": ["week"],
}


@pytest.fixture
def signed_in(client, mia, alice):
    vip = TagFactory(slug="vip")
    customer = CustomerFactory(owner=alice, tags=[vip])
    TaskFactory(campaign=CampaignFactory(owner=mia, status="running"), customer=customer, assignee=alice)
    client.force_login(mia)
    client.raise_request_exception = False
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_no_parameter_value_causes_a_server_error(signed_in, path):
    failures = []
    for name in PAGES[path]:
        for value in NASTY:
            answer = signed_in.get(path, {name: value})
            if answer.status_code >= 500:
                failures.append((name, value[:20], answer.status_code))
    assert not failures


@pytest.mark.django_db
def test_nul_in_a_parameter_is_a_400_naming_it(signed_in):
    answer = signed_in.get("/api/v1/tags/", {"search": "L\x00±"})
    assert answer.status_code == 400 and "search" in answer.json()["detail"]
    page = signed_in.get("/customers/", {"search": "a\x00"})
    assert page.status_code == 400 and "search" in page.content.decode()


@pytest.mark.django_db
def test_report_dates_beyond_the_calendar_say_so(signed_in):
    page = signed_in.get("/campaigns/reports/", {"from": "9999-12-31"})
    assert page.status_code == 200 and "2999-12-31" in page.content.decode()
    assert signed_in.get("/api/v1/reports/weekly/", {"week": "9999-W52"}).status_code == 400


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/segments/preview/", "/api/v1/customers/", "/api/v1/campaigns/",
                                  "/api/v1/tags/", "/api/v1/segments/"])
def test_deeply_nested_json_is_a_400(signed_in, path):
    answer = signed_in.post(path, nested(100_000), content_type="application/json")
    assert answer.status_code == 400 and "levels deep" in answer.json()["detail"]


@pytest.mark.django_db
def test_the_unauthenticated_token_endpoint_refuses_nested_json(client):
    client.raise_request_exception = False
    answer = client.post("/api/v1/auth/token/", '{"username": ' + nested(50_000) + "}",
                         content_type="application/json")
    assert answer.status_code == 400


@pytest.mark.django_db
def test_json_numbers_that_are_not_json_are_refused(signed_in):
    answer = signed_in.post("/api/v1/segments/preview/", '{"expression": {"field": "assets", "op": "gte", '
                            '"value": Infinity}}', content_type="application/json")
    assert answer.status_code == 400
    answer = signed_in.post("/api/v1/segments/preview/", json.dumps({"text": "assets >= 1e309"}),
                            content_type="application/json")
    assert answer.status_code == 400 and answer.json()["position"] == 10


@pytest.mark.django_db
def test_every_answer_with_personal_data_is_never_stored_by_a_cache(signed_in):
    for path in ("/customers/", "/api/v1/customers/", "/customers/export/", "/campaigns/reports/weekly/"):
        assert "no-store" in signed_in.get(path)["Cache-Control"], path


@pytest.mark.django_db
def test_in_lists_and_selections_are_capped(signed_in):
    answer = signed_in.post("/api/v1/segments/preview/", {"text": "branch IN (" + ", ".join(
        f"B{n}" for n in range(1001)) + ")"}, content_type="application/json")
    assert answer.status_code == 400 and "at most 1000" in answer.json()["detail"]
    page = signed_in.post("/customers/bulk/", {"action": "add_tag", "tag": "vip",
                                               "ids": ",".join(str(n) for n in range(1, 1002))})
    assert page.status_code in (200, 302)
    from customers.models import CustomerTag

    assert CustomerTag.objects.count() == 1  # nothing changed


@pytest.mark.django_db
def test_history_import_pages_are_their_owners_only(client, mia, tmp_path):
    from campaigns.analytics.history import HISTORY_KIND
    from core.models import Job
    from tests.factories import UserFactory

    job = Job.objects.create(kind=HISTORY_KIND, created_by=mia, params={})
    other = UserFactory(username="otto", role="marketing_manager")
    client.force_login(other)
    assert client.get(f"/campaigns/reports/history/{job.pk}/").status_code == 404
    client.force_login(mia)
    assert client.get(f"/campaigns/reports/history/{job.pk}/").status_code == 200
