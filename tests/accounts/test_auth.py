import pytest
from django.test import override_settings

from tests.factories import UserFactory


@pytest.fixture
def sam(db):
    return UserFactory(username="sam", password="right-password-1", role="marketing_manager")


def test_token_endpoint_returns_a_token_for_good_credentials(api, sam):
    response = api.post("/api/v1/auth/token/", {"username": "sam", "password": "right-password-1"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/customers/").status_code == 200


def test_token_endpoint_refuses_a_wrong_password_with_400(api, sam):
    response = api.post("/api/v1/auth/token/", {"username": "sam", "password": "wrong"}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


def test_api_refuses_anonymous_requests(api, db):
    assert api.get("/api/v1/customers/").status_code == 401


def test_login_page_signs_a_user_in(client, sam):
    response = client.post("/login/", {"username": "sam", "password": "right-password-1"})
    assert response.status_code == 302
    assert client.get("/customers/").status_code == 200


@override_settings(AXES_FAILURE_LIMIT=3)
def test_login_is_locked_after_repeated_failures(client, sam):
    for _ in range(3):
        client.post("/login/", {"username": "sam", "password": "wrong"})
    response = client.post("/login/", {"username": "sam", "password": "right-password-1"})
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content


def test_pages_need_a_signed_in_user(client, db):
    response = client.get("/customers/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_csrf_is_enforced_on_the_login_form(sam):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/login/", {"username": "sam", "password": "right-password-1"})
    assert response.status_code == 403
