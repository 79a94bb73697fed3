"""Issue 20: sign-in limits key on the real client address — never on a client-written
X-Forwarded-For — and count in the cache every web process shares."""

import json
import os
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.test import RequestFactory, override_settings
from rest_framework.test import APIClient

from core.clientip import client_ip
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_client_ip_trusts_forwarded_for_only_behind_configured_proxies():
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")
    with override_settings(TRUSTED_PROXY_COUNT=0):
        assert client_ip(request) == "10.0.0.1"
    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert client_ip(request) == "203.0.113.9"  # what our proxy saw; 6.6.6.6 is the client's own claim
    with override_settings(TRUSTED_PROXY_COUNT=2):
        assert client_ip(request) == "6.6.6.6"


def test_rotating_x_forwarded_for_does_not_reset_the_token_limit():
    answers = [APIClient().post("/api/v1/auth/token/", {"username": f"nobody{n}", "password": "x"}, format="json",
                                HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code for n in range(22)]
    assert answers[:20] == [400] * 20 and answers[20:] == [429, 429]


@override_settings(TRUSTED_PROXY_COUNT=1, AXES_FAILURE_LIMIT=3)
def test_behind_a_proxy_failures_from_one_client_do_not_lock_the_user_out_elsewhere(client):
    UserFactory(username="sam", password="right-password-1", role="marketing_manager")
    for _ in range(3):
        client.post("/login/", {"username": "sam", "password": "wrong"}, REMOTE_ADDR="10.0.0.1",
                    HTTP_X_FORWARDED_FOR="203.0.113.66")
    locked = client.post("/login/", {"username": "sam", "password": "right-password-1"}, REMOTE_ADDR="10.0.0.1",
                         HTTP_X_FORWARDED_FOR="203.0.113.66")
    assert locked.status_code == 429  # the attacker's address is locked for this user
    elsewhere = client.post("/login/", {"username": "sam", "password": "right-password-1"}, REMOTE_ADDR="10.0.0.1",
                            HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert elsewhere.status_code == 302  # the same proxy, the real user's own address: signed in


COUNT_IN_A_PROCESS = """
import django, json
django.setup()
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from accounts.api import SignInThrottle, TokenView
allowed = 0
for _ in range(12):
    request = RequestFactory().post("/api/v1/auth/token/", REMOTE_ADDR="192.0.2.44")
    request.user = AnonymousUser()
    allowed += SignInThrottle().allow_request(request, TokenView())
print(json.dumps(allowed))
"""


def test_the_limit_is_counted_across_processes_in_the_shared_cache(tmp_path):
    """Two web processes with the production cache setting (files under the var folder without
    CACHE_URL): 20 sign-ins a minute in all, not 20 in each."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "LOOPCRM_VAR_DIR": str(tmp_path)}
    env.pop("CACHE_URL", None)
    runs = [json.loads(subprocess.run([sys.executable, "-c", COUNT_IN_A_PROCESS], env=env, capture_output=True,
                                      text=True, check=True).stdout) for _ in range(2)]
    assert runs == [12, 8]
