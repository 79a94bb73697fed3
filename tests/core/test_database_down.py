"""The database goes away during use: a clear 503 (page or JSON), nothing half-saved, and the next
request after it is back works. Real connections only: the test points Django at a port where
no PostgreSQL listens, as a restart looks from the application."""

import pytest
from django.db import connection

from tests.factories import CampaignFactory, TaskFactory

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif("connection.vendor != 'postgresql'",
                                 reason="a SQLite database cannot be taken away and brought back like a server")]


@pytest.fixture
def database_down():
    real_port = connection.settings_dict["PORT"]

    def down():
        connection.close()
        connection.settings_dict["PORT"] = 1

    def up():
        connection.close()
        connection.settings_dict["PORT"] = real_port

    yield down, up
    up()


def test_a_lost_database_gives_a_clear_503_and_no_partial_write(client, api_as, alice, database_down):
    down, up = database_down
    task = TaskFactory(campaign=CampaignFactory(status="running"), assignee=alice)
    api = api_as(alice)
    client.raise_request_exception = False
    client.force_login(alice)
    api.raise_request_exception = False

    down()
    page = client.get("/campaigns/my-tasks/")
    response = api.patch(f"/api/v1/tasks/{task.pk}/", {"contact_result": "unreachable", "version": 1}, format="json")
    up()

    assert page.status_code == 503 and b"nothing was saved" in page.content
    assert response.status_code == 503 and "nothing was saved" in response.json()["detail"]
    assert response["Retry-After"] == "30"
    task.refresh_from_db()
    assert (task.status, task.version, task.contact_result) == ("open", 1, "")
    again = api.patch(f"/api/v1/tasks/{task.pk}/", {"contact_result": "unreachable", "version": 1}, format="json")
    assert again.status_code == 200 and again.json()["version"] == 2
    assert client.get("/campaigns/my-tasks/").status_code == 200
