import pytest

from config import gunicorn
from segments import engine
from tests.factories import CustomerFactory, TagFactory


@pytest.mark.django_db(transaction=True)
def test_a_new_web_worker_builds_its_audience_index_in_the_background(monkeypatch):
    vip = TagFactory(slug="vip")
    customer = CustomerFactory(tags=[vip])
    engine.reset()
    gunicorn.post_worker_init(worker=None).join(timeout=30)
    assert engine._index.position is not None
    assert set(engine._index.tags[vip.pk]) == {customer.pk}
