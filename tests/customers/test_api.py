import io

import pytest

from core.models import Job
from customers.models import Customer
from tests.factories import BranchFactory, CustomerFactory, TagFactory


@pytest.fixture
def crowd(alice, bob, shenzhen, shanghai):
    vip, wechat = TagFactory(slug="vip"), TagFactory(slug="wechat")
    return {
        "rich": CustomerFactory(external_id="R1", name="Rich Wang", assets=2_000_000, owner=alice, branch=shenzhen,
                                lifecycle_stage="mature", tags=[vip, wechat]),
        "mid": CustomerFactory(external_id="M1", name="Mid Li", assets=300_000, owner=bob, branch=shanghai,
                               lifecycle_stage="growth", tags=[wechat]),
        "new": CustomerFactory(external_id="N1", name="New Zhao", assets=1_000, owner=bob, branch=shanghai,
                               lifecycle_stage="new"),
    }


@pytest.mark.parametrize("query, expected", [
    ("tag=vip", ["R1"]),
    ("tag=wechat", ["M1", "R1"]),
    ("tag=vip&tag=wechat", ["R1"]),
    ("branch=SH02", ["M1", "N1"]),
    ("owner=alice", ["R1"]),
    ("lifecycle_stage=growth", ["M1"]),
    ("assets_min=250000", ["M1", "R1"]),
    ("assets_min=250000&assets_max=500000", ["M1"]),
    ("search=New", ["N1"]),
    ("search=R1", ["R1"]),
])
def test_customer_filters(api_as, mia, crowd, query, expected):
    rows = api_as(mia).get(f"/api/v1/customers/?{query}").json()["results"]
    assert sorted(row["external_id"] for row in rows) == expected


def test_customer_detail_shows_tags_branch_and_owner(api_as, mia, crowd):
    body = api_as(mia).get(f"/api/v1/customers/{crowd['rich'].pk}/").json()
    assert body["tags"] == ["vip", "wechat"] and body["branch"] == "SZ01" and body["owner"] == "alice"


def test_create_customer_and_reject_bad_fields_with_400(api_as, mia, db):
    client = api_as(mia)
    created = client.post("/api/v1/customers/", {"external_id": "NEW-1", "name": "Ann", "risk_level": 3}, format="json")
    assert created.status_code == 201
    bad = client.post("/api/v1/customers/", {"external_id": "NEW-2", "risk_level": 9, "assets": "lots",
                                             "branch": "NOPE"}, format="json")
    assert bad.status_code == 400
    assert {"risk_level", "assets", "branch"} <= set(bad.json())
    assert not Customer.objects.filter(external_id="NEW-2").exists()


def test_external_id_cannot_change(api_as, mia, crowd):
    response = api_as(mia).patch(f"/api/v1/customers/{crowd['rich'].pk}/", {"external_id": "X"}, format="json")
    assert response.status_code == 400


def test_tags_list_with_counts_and_create(api_as, mia, crowd):
    client = api_as(mia)
    counts = {row["slug"]: row["customer_count"] for row in client.get("/api/v1/tags/").json()["results"]}
    assert counts == {"vip": 1, "wechat": 2}
    assert client.post("/api/v1/tags/", {"slug": "app-user", "name": "App user"}, format="json").status_code == 201
    bad = client.post("/api/v1/tags/", {"slug": "Not A Slug!", "name": "x"}, format="json")
    assert bad.status_code == 400 and "slug" in bad.json()


def test_import_endpoint_queues_a_job_and_reports_its_result(api_as, mia, db, django_capture_on_commit_callbacks):
    BranchFactory(code="SZ01")
    upload = io.BytesIO(b"external_id,name,branch\nI1,Ann,SZ01\nI2,Bad,NOPE\n")
    upload.name = "people.csv"
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(mia).post("/api/v1/customers/import/", {"file": upload}, format="multipart")
    assert response.status_code == 202
    job = api_as(mia).get(f"/api/v1/jobs/{response.json()['job']}/").json()
    assert job["state"] == "succeeded" and job["progress"] == 1.0
    assert job["result"]["created"] == 1 and job["result"]["rejected"] == 1
    assert job["errors"][0]["row"] == 2 and job["errors"][0]["column"] == "branch"


def test_import_endpoint_refuses_a_non_spreadsheet_file(api_as, mia, db):
    upload = io.BytesIO(b"MZ\x00\x00")
    upload.name = "virus.exe"
    response = api_as(mia).post("/api/v1/customers/import/", {"file": upload}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    assert not Job.objects.exists()


def test_another_users_job_is_not_found(api_as, mia, alice, db):
    job = Job.objects.create(kind="import_customers", created_by=mia)
    assert api_as(alice).get(f"/api/v1/jobs/{job.pk}/").status_code == 404
    assert api_as(alice).get("/api/v1/jobs/not-a-uuid/").status_code == 404


def test_openapi_schema_and_docs_are_served(client, db):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


def test_null_or_malformed_extra_is_a_400(api_as, mia, crowd):
    client = api_as(mia)
    for bad in (None, [1, 2], "text"):
        response = client.patch(f"/api/v1/customers/{crowd['rich'].pk}/", {"extra": bad}, format="json")
        assert response.status_code == 400 and "extra" in response.json()
