"""The test actors, named once: mia (marketing manager), alice and bob (account managers in
different branches), admin. A permission test then reads as the rule it checks."""

import pytest
from rest_framework.test import APIClient

from tests.factories import BranchFactory, UserFactory


@pytest.fixture
def shenzhen(db):
    return BranchFactory(code="SZ01", name="深圳福田营业部")


@pytest.fixture
def shanghai(db):
    return BranchFactory(code="SH02", name="上海陆家嘴营业部")


@pytest.fixture
def mia(db):
    return UserFactory(username="mia", role="marketing_manager")


@pytest.fixture
def alice(shenzhen):
    return UserFactory(username="alice", role="account_manager", branch=shenzhen)


@pytest.fixture
def bob(shanghai):
    return UserFactory(username="bob", role="account_manager", branch=shanghai)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="admin", role="admin")


@pytest.fixture
def api():
    """An API client; call api.force_authenticate(user) or use api_as(user)."""
    return APIClient()


@pytest.fixture
def api_as():
    def make(user):
        client = APIClient()
        client.force_authenticate(user)
        return client
    return make


@pytest.fixture
def web_as(client):
    def make(user):
        client.force_login(user)
        return client
    return make
