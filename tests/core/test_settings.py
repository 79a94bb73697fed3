"""Settings come from the environment: checked in a fresh interpreter each time."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def settings_value(expression: str, **env) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    clean_env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "DEBUG")}
    clean_env.update({"DJANGO_SETTINGS_MODULE": "config.settings", **env})
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=clean_env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_sqlite_is_the_default_database():
    assert settings_value("settings.DATABASES['default']['ENGINE']") == "django.db.backends.sqlite3"


def test_database_url_switches_to_postgresql():
    engine = settings_value("settings.DATABASES['default']['ENGINE']",
                            DATABASE_URL="postgres://u:p@db.example:5432/crm")
    assert engine == "django.db.backends.postgresql"


def test_broker_defaults_to_a_folder_and_switches_to_redis():
    assert settings_value("settings.CELERY_BROKER_URL") == "filesystem://"
    assert settings_value("settings.CELERY_BROKER_URL", CELERY_BROKER_URL="redis://h:6379/0") == "redis://h:6379/0"


def test_production_settings_refuse_to_start_without_a_secret_key():
    code = "import django; django.setup()"
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "0"})
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update({"DEBUG": "0", "SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-123",
                "ALLOWED_HOSTS": "crm.example.com", "DJANGO_SETTINGS_MODULE": "config.settings"})
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_collectstatic_succeeds_with_production_storage(tmp_path):
    """The manifest storage refuses a vendored file that references a missing one (a source map)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update({"DEBUG": "0", "SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-123",
                "ALLOWED_HOSTS": "crm.example.com", "DJANGO_SETTINGS_MODULE": "config.settings",
                "LOOPCRM_VAR_DIR": str(tmp_path)})
    result = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "staticfiles" / "staticfiles.json").exists()


def test_the_beat_schedule_can_be_stored():
    """celery beat pickles its schedule into a file: a lambda in it kills beat at start."""
    import pickle

    from django.conf import settings

    pickle.dumps(settings.CELERY_BEAT_SCHEDULE)
    entry = settings.CELERY_BEAT_SCHEDULE["weekly-operations-review"]["schedule"]
    assert str(entry.nowfun().tzinfo) == settings.WEEKLY_REPORT_TIME_ZONE


@pytest.mark.django_db
def test_the_api_docs_page_never_answers_500(client, monkeypatch):
    """Its HTML renderer had no template for errors: a 405, a 406 or (in production, where the docs
    are for signed-in users) an anonymous visit was a 500."""
    from rest_framework.permissions import IsAuthenticated

    from core.api import SwaggerDocsView
    from tests.factories import UserFactory

    client.raise_request_exception = False
    assert client.post("/api/docs/").status_code == 405
    assert client.get("/api/docs/", HTTP_ACCEPT="application/json").status_code == 406
    monkeypatch.setattr(SwaggerDocsView, "permission_classes", [IsAuthenticated])  # production's setting
    anonymous = client.get("/api/docs/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/login/")
    client.force_login(UserFactory(username="reader", role="marketing_manager"))
    page = client.get("/api/docs/")
    assert page.status_code == 200 and "'unsafe-inline'" in page["Content-Security-Policy"]
