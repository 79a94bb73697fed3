"""Test settings: the real settings with fast password hashing and quiet logs.

The database is whatever DATABASE_URL says (SQLite by default, PostgreSQL in CI's second run).
Jobs run through a real worker in the tests marked `worker`; elsewhere they run eagerly so
that a service test sees its job's effect (eager mode is an emulation: see PITFALLS.md).
"""

import os
import tempfile

os.environ.setdefault("LOOPCRM_VAR_DIR", os.path.join(tempfile.gettempdir(), "loopcrm-test-var"))
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright + live_server

from .settings import *  # noqa: E402,F403
from .settings import LOGGING  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
# Each test process its own cache (throttle counts); tests/accounts/test_throttling.py checks the
# shared one across processes.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_EAGER_PROPAGATES = True
# Every database test builds the index first (tests/conftest.py); no thread may hold a connection
# to the test database past its test.
AUDIENCE_INDEX_BACKGROUND_BUILD = False
LOGGING["root"]["level"] = "WARNING"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not SQLite's shared in-memory database: the live server's threads and the worker
    # thread then lock the way `make run`'s file does (WAL, busy timeout) instead of failing
    # with "database table is locked" when two requests overlap (the browser tests).
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": os.path.join(os.environ["LOOPCRM_VAR_DIR"], f"test-{os.getpid()}.sqlite3")}
# Key-event tests set quiet hours themselves: otherwise whether a rule makes its task now would
# depend on the hour the suite runs.
CONTACT_QUIET_HOURS = ""
