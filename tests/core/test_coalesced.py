"""enqueue_coalesced: a burst of writes queues one run; a run that has started lets the next write queue
another; the mark never outlives its countdown by more than the grace period (a lost message)."""

from django.core.cache import cache

from core import services


def test_a_burst_is_one_run_and_a_started_run_lets_the_next_write_queue(monkeypatch):
    sent = []
    monkeypatch.setattr(services, "enqueue", lambda name, *args, **options: sent.append((name, options)) or True)
    cache.delete("coalesced:k")
    assert services.enqueue_coalesced("some.task", key="k", countdown=60)
    assert not services.enqueue_coalesced("some.task", key="k", countdown=60)
    assert sent == [("some.task", {"countdown": 60})]
    services.coalesced_run_started("k")
    assert services.enqueue_coalesced("some.task", key="k", countdown=60) and len(sent) == 2


def test_the_mark_expires_soon_after_its_countdown(monkeypatch):
    timeouts = []
    monkeypatch.setattr(services, "enqueue", lambda *args, **options: True)
    monkeypatch.setattr(services.cache, "add", lambda key, value, timeout: timeouts.append(timeout) or True)
    services.enqueue_coalesced("some.task", key="k2", countdown=60)
    assert timeouts == [60 + services.COALESCE_GRACE_S] and services.COALESCE_GRACE_S <= 600


def test_an_unsent_message_leaves_no_mark(monkeypatch):
    monkeypatch.setattr(services, "enqueue", lambda *args, **options: False)
    cache.delete("coalesced:k3")
    assert not services.enqueue_coalesced("some.task", key="k3", countdown=60)
    assert cache.get("coalesced:k3") is None
