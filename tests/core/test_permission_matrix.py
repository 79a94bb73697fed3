"""Every page and API endpoint, as each role: what each may open, and 404 for another account
manager's objects. A new URL that is not in the table below fails the completeness test."""

import uuid
from datetime import date, time

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from autotags.models import TagRule
from campaigns.models import CampaignTemplate, ContactLimit, SavedTaskView
from campaigns.recurring.services import save_template
from campaigns.triggers.services import save_rule
from core.models import Job
from customers.models import BulkChange
from recommendations.services import LOOKALIKE_TASK
from scores.models import CustomerScore, RunStatus, ScoreRun
from segments.services import save_segment
from tests.factories import CampaignFactory, CustomerFactory, ProductFactory, TagFactory, TaskFactory

pytestmark = pytest.mark.django_db

ALL, MANAGERS, OWN = "all", "managers", "own"  # OWN: alice may open her own, gets 404 for bob's
SKIPPED = {"login", "logout", "set_language"}  # authentication plumbing, tested in tests/accounts
# The OpenAPI description: public in development and tests (API_SCHEMA_PUBLIC), signed-in users only in
# production (tests/accounts/test_tokens.py); every operation in it is for signed-in users.
PUBLIC = {"schema", "api-docs"}
# A saved view is its owner's alone, and only its assignee starts a task, whatever the role.
PERSONAL = {"campaigns:delete_view", "campaigns:start_task"}
POST_ONLY = {"customers:customer_tags", "campaigns:template_approve",
             "campaigns:delete_view", "campaigns:trigger_delete", "campaigns:alerts_seen",
             "campaigns:contact_limit_delete", "campaigns:pool_take", "campaigns:dormancy_goal",
             "campaigns:outcome", "campaigns:start_task",
             "customers:bulk_change_undo", "scores:recompute", "scores:accept_suggestion", "autotags:delete"}

PAGES = {
    "home": (ALL, {}),
    "customers:list": (ALL, {}), "customers:export": (ALL, {}), "customers:bulk": (ALL, {}),
    "customers:detail": (OWN, {"pk": "bobs_customer"}), "customers:customer_tags": (OWN, {"pk": "bobs_customer"}),
    "customers:tags": (MANAGERS, {}), "customers:tag_create": (MANAGERS, {}),
    "customers:tag_edit": (MANAGERS, {"pk": "tag"}), "customers:tag_delete": (MANAGERS, {"pk": "tag"}),
    "customers:tag_merge": (MANAGERS, {}), "customers:import": (MANAGERS, {}),
    "customers:import_status": (MANAGERS, {"job_id": "job"}), "customers:import_errors": (MANAGERS, {"job_id": "job"}),
    "segments:list": (MANAGERS, {}), "segments:builder": (MANAGERS, {}), "segments:preview": (MANAGERS, {}),
    "segments:edit": (MANAGERS, {}), "segments:overlap": (MANAGERS, {}), "segments:detail": (MANAGERS, {"pk": "segment"}),
    "segments:edit_segment": (MANAGERS, {"pk": "segment"}), "segments:refresh": (MANAGERS, {"pk": "segment"}),
    "segments:delete": (MANAGERS, {"pk": "segment"}), "segments:export": (MANAGERS, {"pk": "segment"}),
    "campaigns:list": (MANAGERS, {}), "campaigns:create": (MANAGERS, {}), "campaigns:audience": (MANAGERS, {}),
    "campaigns:reports": (MANAGERS, {}), "campaigns:weekly": (MANAGERS, {}),
    "campaigns:history_import": (MANAGERS, {}), "campaigns:history_status": (MANAGERS, {"job_id": "history_job"}),
    "campaigns:detail": (MANAGERS, {"pk": "campaign"}), "campaigns:edit": (MANAGERS, {"pk": "campaign"}),
    "campaigns:launch": (MANAGERS, {"pk": "campaign"}), "campaigns:job": (MANAGERS, {"pk": "campaign"}),
    "campaigns:tasks": (MANAGERS, {"pk": "campaign"}), "campaigns:tasks_export": (MANAGERS, {"pk": "campaign"}),
    "campaigns:tag_results": (MANAGERS, {"pk": "campaign"}),
    "campaigns:action": (MANAGERS, {"pk": "campaign", "action": "cancel"}),
    "campaigns:my_tasks": (ALL, {}), "campaigns:work": (ALL, {}), "campaigns:save_view": (ALL, {}),
    "campaigns:delete_view": (OWN, {"pk": "bobs_view"}), "campaigns:panel": (OWN, {"pk": "bobs_task"}),
    "campaigns:outcome": (OWN, {"pk": "bobs_task"}), "campaigns:start_task": (OWN, {"pk": "bobs_task"}),
    "customers:bulk_changes": (ALL, {}), "customers:bulk_change_undo": (OWN, {"pk": "bobs_change"}),
    # An export's page and file are its requester's alone (alice: 404 for mia's).
    "core:export_status": (OWN, {"job_id": "export_job"}), "core:export_download": (OWN, {"job_id": "export_job"}),
    # Everyone reads the catalogue; holder and buyer figures count the reader's visible customers only.
    "activity:products": (ALL, {}), "activity:product": (ALL, {"code": "product"}),
    "activity:import": (MANAGERS, {}), "activity:import_status": (MANAGERS, {"job_id": "activity_job"}),
    "activity:import_errors": (MANAGERS, {"job_id": "activity_job"}),
    # Scores: the page and its actions for managers; the customer list's score panel counts visible customers.
    "scores:overview": (MANAGERS, {}), "scores:recompute": (MANAGERS, {}), "scores:accept_suggestion": (MANAGERS, {}),
    "scores:list_distribution": (ALL, {}),
    "autotags:rules": (MANAGERS, {}), "autotags:new": (MANAGERS, {}), "autotags:rule": (MANAGERS, {"pk": "rule"}),
    "autotags:delete": (MANAGERS, {"pk": "rule"}),
    # Rules and lookalikes are marketing tools; a customer's next best products follow the customer.
    "recommendations:rules": (MANAGERS, {}), "recommendations:lookalike": (MANAGERS, {}),
    "recommendations:lookalike_status": (MANAGERS, {"pk": "lookalike_job"}),
    "recommendations:customer_next_best": (OWN, {"pk": "bobs_customer"}),
    # Key-event rules are the marketing team's; alerts are each account manager's own (managers: all).
    "campaigns:triggers": (MANAGERS, {}), "campaigns:trigger_new": (MANAGERS, {}),
    "campaigns:trigger": (MANAGERS, {"pk": "trigger"}), "campaigns:trigger_delete": (MANAGERS, {"pk": "trigger"}),
    "campaigns:alerts": (ALL, {}), "campaigns:alerts_seen": (ALL, {}),
    "campaigns:pool": (ALL, {}), "campaigns:pool_take": (OWN, {"pk": "bobs_pooled_task"}),
    "campaigns:manager_load": (MANAGERS, {}), "campaigns:dormancy_goal": (MANAGERS, {}),
    "campaigns:contact_limits": (MANAGERS, {}), "campaigns:contact_limit_delete": (MANAGERS, {"pk": "contact_limit"}),
    # The operations calendar and its templates are the marketing team's.
    "campaigns:calendar": (MANAGERS, {}), "campaigns:template_new": (MANAGERS, {}),
    "campaigns:template": (MANAGERS, {"pk": "template"}), "campaigns:template_approve": (MANAGERS, {"pk": "template"}),
}

API = [  # (method, path template, rule)
    ("get", "/api/v1/customers/", ALL), ("get", "/api/v1/customers/{bobs_customer}/", OWN),
    ("patch", "/api/v1/customers/{bobs_customer}/", OWN), ("post", "/api/v1/customers/import/", MANAGERS),
    ("get", "/api/v1/tags/", ALL), ("post", "/api/v1/tags/", MANAGERS),
    ("get", "/api/v1/jobs/{job}/", OWN),
    ("get", "/api/v1/segments/", MANAGERS), ("post", "/api/v1/segments/preview/", MANAGERS),
    ("get", "/api/v1/segments/{segment}/members/", MANAGERS), ("post", "/api/v1/segments/overlap/", MANAGERS),
    ("get", "/api/v1/campaigns/", MANAGERS), ("post", "/api/v1/campaigns/", MANAGERS),
    ("get", "/api/v1/campaigns/{campaign}/stats/", MANAGERS), ("post", "/api/v1/campaigns/{campaign}/launch/", MANAGERS),
    ("get", "/api/v1/campaigns/{campaign}/audience/", MANAGERS),
    ("get", "/api/v1/tasks/", ALL), ("get", "/api/v1/tasks/{bobs_task}/", OWN),
    ("patch", "/api/v1/tasks/{bobs_task}/", OWN), ("get", "/api/v1/tasks/{bobs_task}/history/", OWN),
    ("post", "/api/v1/tasks/reassign/", MANAGERS), ("get", "/api/v1/reports/weekly/", MANAGERS),
    ("get", "/api/v1/auth/tokens/", ALL),
    ("get", "/api/v1/products/", ALL), ("post", "/api/v1/products/", MANAGERS),
    ("get", "/api/v1/products/{product}/", ALL), ("patch", "/api/v1/products/{product}/", MANAGERS),
    ("get", "/api/v1/transactions/", ALL), ("post", "/api/v1/transactions/", MANAGERS),
    ("get", "/api/v1/events/", ALL), ("post", "/api/v1/events/", MANAGERS),
    ("get", "/api/v1/scores/churn/model/", ALL), ("get", "/api/v1/customers/{bobs_customer}/scores/", OWN),
    ("get", "/api/v1/recommendations/rules/", MANAGERS), ("get", "/api/v1/customers/{bobs_customer}/next-best/", OWN),
    ("post", "/api/v1/segments/lookalike/", MANAGERS),
    ("get", "/api/v1/triggers/", MANAGERS), ("post", "/api/v1/triggers/", MANAGERS),
    ("get", "/api/v1/templates/", MANAGERS), ("post", "/api/v1/templates/", MANAGERS),
    ("get", "/api/v1/templates/{template}/", MANAGERS), ("patch", "/api/v1/templates/{template}/", MANAGERS),
    ("post", "/api/v1/templates/{template}/approve/", MANAGERS), ("get", "/api/v1/templates/{template}/waves/", MANAGERS),
    ("get", "/api/v1/triggers/{trigger}/", MANAGERS), ("patch", "/api/v1/triggers/{trigger}/", MANAGERS),
]


@pytest.fixture
def objects(mia, alice, bob):
    vip = TagFactory(slug="vip")
    bobs_customer = CustomerFactory(owner=bob, tags=[vip])
    CustomerFactory(owner=alice, tags=[vip])
    campaign = CampaignFactory(owner=mia, status="running")
    return {
        "bobs_customer": bobs_customer.pk, "tag": vip.pk,
        "job": Job.objects.create(kind="import_customers", created_by=mia).pk,
        "history_job": Job.objects.create(kind="import_history", created_by=mia).pk,
        "export_job": Job.objects.create(kind="export", created_by=mia, params={"title": "VIP", "export": "segment",
                                                                               "file_name": "segment.csv"}).pk,
        "segment": save_segment(name="VIP", text="vip", by=mia).pk, "campaign": campaign.pk,
        "bobs_task": TaskFactory(campaign=campaign, customer=bobs_customer, assignee=bob).pk,
        "bobs_view": SavedTaskView.objects.create(user=bob, name="Mine", query="bucket=today").pk,
        "bobs_change": BulkChange.objects.create(action="add_tag", tag_slug="vip", by=bob, summary="Add tag vip").pk,
        "product": ProductFactory(code="FUND-A").code,
        "activity_job": Job.objects.create(kind="import_activity", created_by=mia, params={"kind": "events"}).pk,
        "rule": TagRule.objects.create(name="Rich", tag=TagFactory(slug="rich", source="rule"), text="assets >= 1",
                                       expression={"field": "assets", "op": "gte", "value": 1}).pk,
        "run": _published_run(bobs_customer),
        "bobs_pooled_task": TaskFactory(campaign=campaign, customer=CustomerFactory(branch=bob.branch), assignee=None).pk,
        "contact_limit": ContactLimit.objects.create(period_days=7, max_contacts=3).pk,
        "trigger": save_rule(by=mia, name="Opening failed", event="account_opening_failed").pk,
        "template": save_template(template=CampaignTemplate(name="Tuesday", plan="First purchase", text="vip", weekday=1,
                                                            window_start=time(9), window_end=time(10)), by=mia).pk,
        "lookalike_job": Job.objects.create(kind="lookalike", task=LOOKALIKE_TASK, created_by=mia,
                                            params={"name": "Like VIP"}).pk,
    }


def _published_run(customer) -> int:
    """A published score run with a churn model and the customer's row (the score API's objects)."""
    run = ScoreRun.objects.create(as_of=date(2026, 1, 31), status=RunStatus.PUBLISHED, inputs={"settings": {}},
                                  churn_model={"r": 0.2, "alpha": 4.0, "a": 0.8, "b": 2.4, "log_likelihood": -10.0,
                                               "customers": 20}, finished_at=timezone.now())
    CustomerScore.objects.create(run=run, customer=customer, lifecycle="potential", intent_group="bottom",
                                 consultation="self_directed")
    return run.pk


def _names(resolver: URLResolver, namespace: str = "") -> set[str]:
    names = set()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin" or str(pattern.pattern).startswith("api/"):
                continue
            inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else (
                pattern.namespace or namespace)
            names |= _names(pattern, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def test_every_page_is_in_the_matrix():
    missing = _names(get_resolver()) - set(PAGES) - SKIPPED - PUBLIC
    assert not missing, f"add these pages to the permission matrix: {sorted(missing)}"


def _page(name: str, objects: dict) -> str:
    rule, kwargs = PAGES[name]
    return reverse(name, kwargs={key: objects.get(value, value) for key, value in kwargs.items()})


@pytest.mark.parametrize("name", sorted(PAGES))
def test_pages_by_role(name, objects, client, mia, alice, admin_user):
    path = _page(name, objects)
    rule = PAGES[name][0]
    request = client.post if name in POST_ONLY else client.get
    assert request(path).status_code in (302, 405), "anonymous users are sent to the login page"
    for user in (mia, admin_user):
        client.force_login(user)
        allowed = (404,) if name in PERSONAL else (200, 302, 405, 422)  # 422: the empty form was refused
        assert signed_in_answer(request(path)) in allowed, (user, path)
    client.force_login(alice)
    status = signed_in_answer(request(path))
    expected = {ALL: (200, 302, 405), MANAGERS: (403,), OWN: (404,)}[rule]
    assert status in expected, (name, path, status)


def signed_in_answer(response) -> int:
    """The status a signed-in user got; being sent to the login page is a failure, never an answer."""
    if response.status_code == 302:
        assert not response["Location"].startswith(reverse("login")), f"signed-in user sent to {response['Location']}"
    return response.status_code


@pytest.mark.parametrize("method, template, rule", API)
def test_api_by_role(method, template, rule, objects, api, api_as, mia, alice, admin_user):
    path = template.format(**{key: str(value) for key, value in objects.items()})
    assert getattr(api, method)(path, {}, format="json").status_code in (401, 403)
    manager_status = getattr(api_as(mia), method)(path, {}, format="json").status_code
    assert manager_status < 500 and manager_status not in (401, 403, 404), (path, manager_status)
    status = getattr(api_as(alice), method)(path, {}, format="json").status_code
    expected = {ALL: range(200, 300), MANAGERS: (403,), OWN: (404,)}[rule]
    assert status in expected, (method, path, status)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_the_api_description_is_public(name, client):
    assert client.get(reverse(name)).status_code == 200


def test_a_job_of_someone_else_is_not_found(api_as, bob, objects):
    assert api_as(bob).get(f"/api/v1/jobs/{uuid.uuid4()}/").status_code == 404
