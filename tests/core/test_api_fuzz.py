"""Bounded API fuzzing (schemathesis) as each role: no request the schema allows may cause a 5xx,
and every answer — status code, content type and body — is one the schema declares."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from accounts.tokens import issue_token
from config.wsgi import application
from tests.factories import BranchFactory, CustomerFactory, TagFactory, UserFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Django closes the connection after each request; its test client stops that, and so must we
    when calling the WSGI app directly, or the test's transaction loses its connection on PostgreSQL."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=["marketing_manager", "account_manager", "admin"])
def token(request, db):
    branch = BranchFactory(code="SZ01")
    user = UserFactory(username=f"fuzz-{request.param}", role=request.param, branch=branch)
    vip = TagFactory(slug="vip")
    CustomerFactory(owner=user, branch=branch, tags=[vip])
    CustomerFactory(tags=[vip])
    return issue_token(user=user)[1]


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_causes_a_server_error(case, token):
    if case.path == "/api/v1/auth/token/":
        return  # throttled by design (20/min); its inputs are covered in tests/accounts
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=[
        not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance])
