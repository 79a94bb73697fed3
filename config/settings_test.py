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
CELERY_TASK_EAGER_PROPAGATES = True
LOGGING["root"]["level"] = "WARNING"
