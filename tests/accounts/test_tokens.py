"""Issue 20: API tokens expire, end with a password change, can be listed and revoked by their owner,
are stored only as digests; a user without a role loses access at once, even while active."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from tests.factories import CustomerFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sam():
    return UserFactory(username="sam", password="right-password-1", role="marketing_manager")


def sign_in(username="sam", password="right-password-1", **extra):  # noqa: S107 - a test account
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password, **extra},
                            format="json")


def with_token(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_is_issued_with_its_expiry_and_stored_only_as_a_digest(sam):
    answer = sign_in(name="nightly export").json()
    key = answer["token"]
    assert len(key) == 40 and answer["expires_at"]
    stored = ApiToken.objects.get(pk=answer["id"])
    assert stored.name == "nightly export" and key not in (stored.digest, stored.prefix) and stored.prefix == key[:8]
    assert with_token(key).get("/api/v1/customers/").status_code == 200
    assert APIClient().get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200


def test_an_expired_token_is_refused_saying_so(sam):
    key = sign_in().json()["token"]
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = with_token(key).get("/api/v1/customers/")
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]


def test_a_password_change_ends_every_token(sam):
    first, second = sign_in().json()["token"], sign_in().json()["token"]
    sam.set_password("another-password-2")
    sam.save()
    for key in (first, second):
        answer = with_token(key).get("/api/v1/customers/")
        assert answer.status_code == 401 and "password was changed" in answer.json()["detail"]
    fresh = sign_in(password="another-password-2").json()["token"]
    assert with_token(fresh).get("/api/v1/customers/").status_code == 200


def test_owners_list_and_revoke_their_own_tokens_only(sam):
    other = UserFactory(username="olga", password="right-password-1", role="marketing_manager")
    mine, spare = sign_in().json(), sign_in().json()
    theirs = sign_in("olga").json()
    client = with_token(mine["token"])
    listed = client.get("/api/v1/auth/tokens/").json()
    assert {row["id"] for row in listed} == {mine["id"], spare["id"]}
    assert [row["current"] for row in listed if row["id"] == mine["id"]] == [True]
    assert client.delete(f"/api/v1/auth/tokens/{theirs['id']}/").status_code == 404  # not yours
    assert client.delete(f"/api/v1/auth/tokens/{spare['id']}/").status_code == 204
    assert with_token(spare["token"]).get("/api/v1/customers/").status_code == 401
    assert with_token(theirs["token"]).get("/api/v1/customers/").status_code == 200
    assert client.delete(f"/api/v1/auth/tokens/{mine['id']}/").status_code == 204  # sign out
    assert client.get("/api/v1/customers/").status_code == 401
    assert other.api_tokens.count() == 1


def test_a_user_keeps_at_most_the_configured_number_of_tokens(sam, settings):
    settings.API_TOKENS_PER_USER = 3
    keys = [sign_in().json()["token"] for _ in range(5)]
    assert sam.api_tokens.count() == 3
    assert with_token(keys[0]).get("/api/v1/customers/").status_code == 401
    assert with_token(keys[-1]).get("/api/v1/customers/").status_code == 200


def test_a_user_whose_role_is_taken_away_loses_access_while_active(client, alice):
    alice.set_password("right-password-1")
    alice.save()
    task = TaskFactory(assignee=alice, customer=CustomerFactory(owner=alice))
    key = sign_in("alice").json()["token"]
    client.force_login(alice)
    alice.groups.clear()  # demoted, still active
    answer = with_token(key).patch(f"/api/v1/tasks/{task.pk}/", {"note": "still here"}, format="json")
    assert answer.status_code == 401 and "no role" in answer.json()["detail"]
    session_answer = client.patch(f"/api/v1/tasks/{task.pk}/", {"note": "x"}, content_type="application/json")
    assert session_answer.status_code in (401, 403)
    page = client.get("/campaigns/my-tasks/")
    assert page.status_code == 403 and "no role" in page.content.decode()
    assert sign_in("alice").status_code == 400
    task.refresh_from_db()
    assert task.note != "still here"


def test_add_user_refuses_weak_passwords(db):
    with pytest.raises(CommandError, match="too short|too common|entirely numeric"):
        call_command("add_user", "weak", "--role", "account_manager", "--password", "1")
    call_command("add_user", "strong", "--role", "account_manager", "--password", "a-much-longer-phrase-7")


def test_the_browsable_api_and_the_schema_are_closed_in_production():
    """Production settings (DEBUG=0) in a fresh process: JSON only, and the schema needs a sign-in."""
    import os
    import subprocess
    import sys

    code = ("import django; django.setup(); from django.conf import settings as s; "
            "print(s.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES'], s.SPECTACULAR_SETTINGS['SERVE_PERMISSIONS'])")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "0", "SECRET_KEY": "x" * 60,
           "ALLOWED_HOSTS": "crm.example.com"}
    env.pop("API_SCHEMA_PUBLIC", None)
    printed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert "BrowsableAPIRenderer" not in printed and "IsAuthenticated" in printed
