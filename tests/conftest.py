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


@pytest.fixture(autouse=True)
def language_reset():
    """LocaleMiddleware activates a request's language in the thread and leaves it there; the next
    test starts in the default language again."""
    yield
    from django.utils import translation

    translation.deactivate()


# --- the audience index against the naive SQL, after every test that wrote customers or tags ----

DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}


def _uses_database(request) -> bool:
    return request.node.get_closest_marker("django_db") is not None or bool(DB_FIXTURES & set(request.fixturenames))


@pytest.fixture(autouse=True)
def audience_index_stays_exact(request):
    """Each test starts with a fresh process index (its database is new); when the test wrote
    customers or tag links, the index — patched from the change feed, not rebuilt — must then
    agree with the naive junction-table SQL on every tag, branch, owner and numeric field."""
    from segments import engine

    engine.reset()
    if not _uses_database(request):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    from customers.changes import current_position

    engine.current_index()  # warm before the test's own data: what it writes arrives as patches
    start = current_position()
    yield
    from tests.audience_check import assert_index_matches_naive_sql

    assert_index_matches_naive_sql(since=start)
