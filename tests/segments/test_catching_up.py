"""Issue 21: while a change too large to patch is indexed, previews answer from the previous index and
say so, the customer list answers by SQL, and exact callers (launches, saved segments) wait for the
exact index. The rebuild runs in a background thread with its own connection."""

import threading

import pytest

from customers.models import Customer
from customers.services import add_tag
from segments import engine
from segments.services import audience_for, preview
from tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def slow_background_build(monkeypatch, settings):
    """Background builds on, a patch limit of 2 changed customers, and the background build held
    until the test releases it."""
    settings.AUDIENCE_INDEX_BACKGROUND_BUILD = True
    monkeypatch.setattr(engine, "PATCH_LIMIT", 2)
    release = threading.Event()
    built = engine.AudienceIndex.built.__func__

    def held(cls):
        if threading.current_thread().name == "build-audience-index":
            assert release.wait(30)
        return built(cls)

    monkeypatch.setattr(engine.AudienceIndex, "built", classmethod(held))
    yield release
    release.set()
    for thread in threading.enumerate():
        if thread.name == "build-audience-index":
            thread.join(30)


def _background_build_done():
    for thread in threading.enumerate():
        if thread.name == "build-audience-index":
            thread.join(30)
            assert not thread.is_alive()


def test_previews_answer_from_the_previous_index_while_it_rebuilds(slow_background_build, web_as, mia, api_as):
    vip = TagFactory(slug="vip")
    for _ in range(3):
        CustomerFactory(tags=[vip])
    others = [CustomerFactory() for _ in range(4)]
    engine.reset()
    assert preview(text="vip")["count"] == 3
    add_tag(tag=vip, customers=Customer.objects.filter(pk__in=[customer.pk for customer in others]))

    answer = api_as(mia).post("/api/v1/segments/preview/", {"text": "vip"}, format="json").json()
    assert answer["count"] == 3 and answer["catching_up"] is True and answer["as_of"]
    page = web_as(mia).post("/segments/builder/preview/", {"text": "vip"}).content.decode()
    assert "data-catching-up" in page
    # The list does not wait either: it answers by SQL, exactly.
    assert "7 customers" in web_as(mia).get("/customers/?tag=vip").content.decode()

    slow_background_build.set()
    _background_build_done()
    answer = api_as(mia).post("/api/v1/segments/preview/", {"text": "vip"}, format="json").json()
    assert answer["count"] == 7 and answer["catching_up"] is False


def test_exact_callers_never_get_the_previous_index(slow_background_build):
    vip = TagFactory(slug="vip")
    customers = [CustomerFactory() for _ in range(5)]
    engine.reset()
    assert audience_for(text="vip")[1].count == 0
    add_tag(tag=vip, customers=Customer.objects.filter(pk__in=[customer.pk for customer in customers]))
    assert preview(text="vip")["catching_up"] is True  # a rebuild is running in the background…
    _tree, audience = audience_for(text="vip")  # …and a launch or a save waits for the exact one
    assert audience.count == 5 and not audience.catching_up
