"""The Celery app. Jobs live in each app's jobs.py ("task" means an account manager's task)."""

import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("loopcrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")


def _warm_audience_index(**_signal) -> None:
    """Build the process's audience index in the background once the worker is up, so that the first
    job needing it (a key-event batch with a segment, a launch) does not wait for a build — 15–20 s at
    1M customers — as gunicorn's workers do (config/gunicorn.py). Off where the setting is (tests)."""
    import threading

    from django.conf import settings

    if not settings.AUDIENCE_INDEX_BACKGROUND_BUILD:
        return

    def warm():
        from django.db import connection

        from segments.engine import current_index

        try:
            current_index()
        finally:
            connection.close()

    threading.Thread(target=warm, name="warm-audience-index", daemon=True).start()


def _warm_unless_prefork(sender=None, **_signal) -> None:
    # worker_ready fires in the process that runs the jobs only with the solo and thread pools; a
    # prefork parent runs none, and its children warm up on worker_process_init.
    pool = getattr(getattr(sender, "controller", None), "pool_cls", None)
    name = pool if isinstance(pool, str) else f"{getattr(pool, '__module__', '')}.{getattr(pool, '__name__', '')}"
    if "prefork" not in name.lower():
        _warm_audience_index()


worker_process_init.connect(_warm_audience_index, weak=False)
worker_ready.connect(_warm_unless_prefork, weak=False)
