"""The account manager's workspace: queue, work view, outcome form, saved views, permissions."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import OutcomeChange, SavedTaskView
from tests.factories import CampaignFactory, CustomerFactory, TaskFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def running(mia):
    return CampaignFactory(owner=mia, status="running", script="Hello, this is your bank.")


def make_tasks(campaign, assignee, count, **fields):
    return [TaskFactory(campaign=campaign, assignee=assignee, customer=CustomerFactory(owner=assignee), **fields)
            for _number in range(count)]


def test_queue_buckets_and_counts(web_as, alice, bob, running):
    make_tasks(running, alice, 2, due_date=TODAY - timedelta(days=2))
    make_tasks(running, alice, 3, due_date=TODAY)
    make_tasks(running, alice, 1, due_date=TODAY + timedelta(days=4))
    make_tasks(running, bob, 4, due_date=TODAY)  # not alice's
    client = web_as(alice)
    page = client.get("/campaigns/my-tasks/").content.decode()
    assert "data-count-overdue>2<" in page and "data-count-today>3<" in page
    assert client.get("/campaigns/my-tasks/?bucket=overdue").context["table"].page.paginator.count == 2
    assert client.get("/campaigns/my-tasks/?bucket=upcoming").context["table"].page.paginator.count == 1
    assert 'class="nav-count"' in page and ">5</span>" in page  # overdue + today in the navigation


def test_queue_sorts_by_assets(web_as, alice, running):
    for assets in (10, 3000, 200):
        TaskFactory(campaign=running, assignee=alice, customer=CustomerFactory(owner=alice, assets=assets))
    rows = web_as(alice).get("/campaigns/my-tasks/?sort=assets").context["table"].page.object_list
    assert [row.record.customer.assets for row in rows] == [3000, 200, 10]


def test_saved_views(web_as, alice, bob):
    client = web_as(alice)
    client.post("/campaigns/my-tasks/views/", {"name": "Overdue", "query": "bucket=overdue"})
    view = SavedTaskView.objects.get(user=alice)
    assert view.query == "bucket=overdue" and "Overdue" in client.get("/campaigns/my-tasks/").content.decode()
    assert web_as(bob).post(f"/campaigns/my-tasks/views/{view.pk}/delete/").status_code == 404
    assert SavedTaskView.objects.filter(pk=view.pk).exists()


def test_work_view_shows_profile_script_and_form(web_as, alice, running):
    task, = make_tasks(running, alice, 1)
    body = web_as(alice).get("/campaigns/my-tasks/work/").content.decode()
    assert task.customer.name in body and "Hello, this is your bank." in body and "data-outcome-form" in body
    task.refresh_from_db()
    assert task.status == "open" and "data-starts" in body  # a GET changes nothing (issue 20) …
    started = web_as(alice).post(f"/campaigns/my-tasks/{task.pk}/start/")
    task.refresh_from_db()
    assert task.status == "in_progress" and "In progress" in started.content.decode()  # … the panel's POST does


def test_only_the_assignee_starts_a_task_and_only_by_post(web_as, alice, bob, running):
    task, = make_tasks(running, alice, 1)
    assert web_as(alice).get(f"/campaigns/my-tasks/{task.pk}/start/").status_code == 405
    assert web_as(bob).post(f"/campaigns/my-tasks/{task.pk}/start/").status_code == 404
    task.refresh_from_db()
    assert task.status == "open"


def test_saving_moves_to_the_next_open_task(web_as, alice, running):
    first, second = make_tasks(running, alice, 2, due_date=TODAY)
    response = web_as(alice).post(f"/campaigns/my-tasks/{first.pk}/outcome/", {
        "result": "declined", "failure_reason": "price", "version": 1, "query": ""}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'data-current-task="{second.pk}"' in response.content.decode()
    first.refresh_from_db()
    assert (first.contact_result, first.response, first.failure_reason, first.status) == (
        "reached", "declined", "price", "done")


def test_invalid_outcome_is_shown_in_place_and_saves_nothing(web_as, alice, running):
    task, = make_tasks(running, alice, 1)
    response = web_as(alice).post(f"/campaigns/my-tasks/{task.pk}/outcome/", {
        "result": "declined", "version": 1}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Say why the customer declined" in response.content.decode()
    task.refresh_from_db()
    assert (task.response, task.version, task.completed_at) == ("", 1, None)


def test_stale_form_is_told_not_overwritten(web_as, alice, running):
    task, = make_tasks(running, alice, 1)
    client = web_as(alice)
    client.post(f"/campaigns/my-tasks/{task.pk}/outcome/", {"result": "converted", "amount": "10", "version": 1})
    response = client.post(f"/campaigns/my-tasks/{task.pk}/outcome/", {"result": "unreachable", "version": 1})
    assert response.status_code == 409 and "data-conflict" in response.content.decode()
    task.refresh_from_db()
    assert task.response == "converted" and OutcomeChange.objects.filter(task=task).count() == 1


def test_queue_and_work_view_use_a_constant_number_of_queries(web_as, alice, running):
    client = web_as(alice)

    def queries(path):
        client.get(path)  # the first opening marks the task in progress (one write); count a steady view
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured)

    make_tasks(running, alice, 3)
    few = (queries("/campaigns/my-tasks/"), queries("/campaigns/my-tasks/work/"))
    make_tasks(running, alice, 40)
    many = (queries("/campaigns/my-tasks/"), queries("/campaigns/my-tasks/work/"))
    assert few == many


# --- the permission matrix: account managers see only their own, everywhere ---------------------

@pytest.fixture
def bobs_task(bob, running):
    return make_tasks(running, bob, 1)[0]


@pytest.mark.parametrize("path", ["/campaigns/my-tasks/{pk}/", "/campaigns/my-tasks/work/?task={pk}"])
def test_another_managers_task_is_404_in_pages_and_fragments(web_as, alice, bobs_task, path):
    assert web_as(alice).get(path.format(pk=bobs_task.pk)).status_code == 404


def test_another_managers_task_cannot_take_an_outcome(web_as, api_as, alice, bobs_task):
    assert web_as(alice).post(f"/campaigns/my-tasks/{bobs_task.pk}/outcome/",
                              {"result": "unreachable", "version": 1}).status_code == 404
    response = api_as(alice).patch(f"/api/v1/tasks/{bobs_task.pk}/", {"contact_result": "unreachable", "version": 1},
                                   format="json")
    assert response.status_code == 404
    bobs_task.refresh_from_db()
    assert bobs_task.status == "open"


def test_another_managers_tasks_are_not_in_lists_counts_or_history(web_as, api_as, alice, bob, bobs_task, running):
    mine, = make_tasks(running, alice, 1)
    bobs_on_hers = TaskFactory(campaign=CampaignFactory(status="running"), customer=mine.customer, assignee=bob)
    client = web_as(alice)
    page = client.get("/campaigns/my-tasks/?bucket=all")
    assert [row.record.pk for row in page.context["table"].page.object_list] == [mine.pk]
    panel = client.get(f"/campaigns/my-tasks/{mine.pk}/").context
    # Her customer's whole story is hers to read (issue 14) — but not to work: bob's task is not in her lists.
    assert list(panel["history"]) == [bobs_on_hers]
    assert client.get(f"/campaigns/my-tasks/{bobs_on_hers.pk}/").status_code == 404
    assert api_as(alice).get(f"/api/v1/tasks/?customer={mine.customer_id}").json()["count"] == 1
    assert api_as(alice).get(f"/api/v1/tasks/{bobs_task.pk}/history/").status_code == 404


def test_control_group_tasks_never_reach_account_managers(web_as, api_as, alice, running):
    control, = make_tasks(running, alice, 1, group="control")
    assert web_as(alice).get(f"/campaigns/my-tasks/{control.pk}/").status_code == 404
    assert api_as(alice).get("/api/v1/tasks/").json()["count"] == 0


def test_managers_see_and_can_work_every_task(web_as, mia, bobs_task):
    assert web_as(mia).get(f"/campaigns/my-tasks/{bobs_task.pk}/").status_code == 200


# --- the API --------------------------------------------------------------------------------------

def test_patch_logs_the_outcome_and_returns_the_new_version(api_as, alice, running):
    task, = make_tasks(running, alice, 1)
    response = api_as(alice).patch(f"/api/v1/tasks/{task.pk}/", {
        "contact_result": "reached", "response": "converted", "amount": "1200.50", "note": "signed", "version": 1},
        format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2 and response.json()["status"] == "done"
    history = api_as(alice).get(f"/api/v1/tasks/{task.pk}/history/").json()
    assert history[0]["by"] == "alice" and history[0]["after"]["amount"] == "1200.50"


def test_patch_with_a_stale_version_is_409_with_the_current_task(api_as, alice, running):
    task, = make_tasks(running, alice, 1)
    client = api_as(alice)
    client.patch(f"/api/v1/tasks/{task.pk}/", {"contact_result": "unreachable", "version": 1}, format="json")
    response = client.patch(f"/api/v1/tasks/{task.pk}/", {"contact_result": "refused", "version": 1}, format="json")
    assert response.status_code == 409 and response.json()["current"]["version"] == 2


@pytest.mark.parametrize("body, field", [
    ({"contact_result": "reached", "response": "declined", "version": 1}, "failure_reason"),
    ({"contact_result": "reached", "response": "converted", "amount": "-5", "version": 1}, "amount"),
    ({"contact_result": "reached", "response": "converted"}, "version"),
    ({"contact_result": "teleported", "version": 1}, "contact_result"),
])
def test_patch_with_an_invalid_outcome_is_400_with_field_errors(api_as, alice, running, body, field):
    task, = make_tasks(running, alice, 1)
    response = api_as(alice).patch(f"/api/v1/tasks/{task.pk}/", body, format="json")
    assert response.status_code == 400 and field in response.json(), response.json()
    task.refresh_from_db()
    assert task.version == 1


def test_customer_timeline_shows_every_contact_with_her_customer(web_as, alice, bob, running):
    from campaigns.workspace.services import log_outcome

    task, = make_tasks(running, alice, 1)
    log_outcome(task=task, by=alice, version=1, contact_result="reached", response="converted", amount=700)
    TaskFactory(campaign=CampaignFactory(name="Bob's push", status="running"), customer=task.customer, assignee=bob)
    body = web_as(alice).get(f"/customers/{task.customer_id}/").content.decode()
    assert 'data-event="outcome"' in body and "Converted" in body and "700" in body
    assert running.name in body and "Bob&#x27;s push" in body  # an earlier manager's contact, read-only



def test_managers_see_every_task_on_the_customer_timeline(web_as, mia, alice, bob, running):
    task, = make_tasks(running, alice, 1)
    TaskFactory(campaign=CampaignFactory(name="Push two", status="running"), customer=task.customer, assignee=bob)
    body = web_as(mia).get(f"/customers/{task.customer_id}/").content.decode()
    assert running.name in body and "Push two" in body


def test_a_customer_without_a_name_is_shown_and_linked_by_external_id(web_as, mia, alice, running):
    """Issue 14: every demo customer is nameless; lists showed a bare "—" and the save message "Saved: ."."""
    first = TaskFactory(campaign=running, assignee=alice, due_date=TODAY,
                        customer=CustomerFactory(owner=alice, name="", external_id="bank-6"))
    TaskFactory(campaign=running, assignee=alice, due_date=TODAY, customer=CustomerFactory(owner=alice))
    client = web_as(alice)
    link = f'href="/customers/{first.customer_id}/"'
    queue = client.get("/campaigns/my-tasks/").content.decode()
    assert ">bank-6</a>" in queue
    work = client.get(f"/campaigns/my-tasks/work/?task={first.pk}").content.decode()
    assert f'<a {link}>bank-6</a>' in work
    saved = client.post(f"/campaigns/my-tasks/{first.pk}/outcome/", {
        "result": "declined", "failure_reason": "price", "version": 1, "query": ""}, HTTP_HX_REQUEST="true")
    assert "Saved: bank-6." in saved.content.decode()
    tasks = web_as(mia).get(f"/campaigns/{running.pk}/tasks/").content.decode()
    assert f"<a {link}>bank-6</a>" in tasks
    page = client.get(f"/customers/{first.customer_id}/").content.decode()
    assert "<title>bank-6" in page and '<small class="muted">bank-6</small>' not in page


def test_imported_columns_are_shown_apart_from_the_profile(web_as, mia):
    customer = CustomerFactory(extra={"pdays": "-1", "y": "no"})
    page = web_as(mia).get(f"/customers/{customer.pk}/").content.decode()
    imported = page.split("data-imported-attributes", 1)[1]
    assert "Imported attributes" in page and "<dt>pdays</dt>" in imported and "<dt>y</dt>" in imported


def test_an_account_manager_reads_the_whole_story_of_her_own_customer_only(web_as, alice, bob, mia, running):
    """Issue 14: earlier managers' outcomes of her customer are shown (read-only); another manager's
    customers stay out of sight."""
    earlier = CampaignFactory(owner=mia, status="completed", name="Spring funds")
    hers = CustomerFactory(owner=alice)
    TaskFactory(campaign=earlier, customer=hers, assignee=bob, status="done", contact_result="reached",
                response="declined")  # bob called her customer last spring
    TaskFactory(campaign=CampaignFactory(owner=mia, status="completed", name="Autumn bonds"), customer=hers,
                assignee=bob, group="control")  # kept out as holdout: not a contact
    task = TaskFactory(campaign=running, customer=hers, assignee=alice, due_date=TODAY)
    bobs = CustomerFactory(owner=bob)
    TaskFactory(campaign=earlier, customer=bobs, assignee=bob, status="done", contact_result="reached")
    client = web_as(alice)
    work = client.get(f"/campaigns/my-tasks/work/?task={task.pk}").content.decode()
    assert "Spring funds" in work and "bob" in work.split("Spring funds", 1)[1][:300]
    timeline = client.get(f"/customers/{hers.pk}/").content.decode()
    assert "Spring funds" in timeline and "Autumn bonds" not in timeline  # the holdout row is not a contact
    assert client.get(f"/customers/{bobs.pk}/").status_code == 404
    from campaigns.workspace.selectors import customer_history

    assert not customer_history(bobs.pk, alice).exists()
    assert client.patch(f"/api/v1/tasks/{TaskFactory._meta.model.objects.filter(customer=hers, assignee=bob).first().pk}/",
                        {"note": "x"}, content_type="application/json").status_code == 404  # read-only


def test_the_count_tiles_follow_the_campaign_filter(web_as, alice, mia, running):
    other = CampaignFactory(owner=mia, status="running")
    make_tasks(running, alice, 2, due_date=TODAY)
    make_tasks(other, alice, 3, due_date=TODAY)
    client = web_as(alice)
    assert "data-count-today>5<" in client.get("/campaigns/my-tasks/").content.decode()
    assert "data-count-today>3<" in client.get(f"/campaigns/my-tasks/?campaign={other.pk}").content.decode()


def test_holdout_tasks_are_never_in_anyones_queue_or_work_view(web_as, mia, running):
    """Issue 14: a manager's "next" jumped to a holdout task and saving it failed."""
    treated = TaskFactory(campaign=running, assignee=mia, customer=CustomerFactory(), due_date=TODAY)
    TaskFactory(campaign=running, assignee=mia, customer=CustomerFactory(), due_date=TODAY, group="control")
    client = web_as(mia)
    page = client.get("/campaigns/my-tasks/?bucket=all")
    assert [row.record.pk for row in page.context["table"].page.object_list] == [treated.pk]
    assert "data-count-today>1<" in page.content.decode()
    work = client.get("/campaigns/my-tasks/work/").context
    assert [task.pk for task in work["tasks"]] == [treated.pk]
