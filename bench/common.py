"""Shared benchmark plumbing: Django on the benchmark database, the results file, the table."""

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SIZE_NOTE = {"full": "", "small": " (the target is for --size full; a small run only checks the pipeline)"}
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loopcrm_bench"


def setup_django() -> str:
    """Point Django at the benchmark database (PostgreSQL unless DATABASE_URL says otherwise)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Production-like settings (no DEBUG query log); the in-process test client talks plain HTTP.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789abcdef")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    # Production-like broker for the benchmarks that run a worker (metrics freshness).
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    url = os.environ["DATABASE_URL"]
    if url.startswith("postgres"):
        name = url.rsplit("/", 1)[1]
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
        subprocess.run(["psql", admin_url, "-qc", f"CREATE DATABASE {name}"], capture_output=True, check=False)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)  # DEBUG=0 serves hashed static names
    return url.split("://")[0]


def machine() -> str:
    return f"{platform.node()} {os.cpu_count()} cores {platform.machine()} Python {platform.python_version()}"


def write_result(name: str, *, dataset: str, metric: str, unit: str, value: float, baseline: float,
                 target: str, met: bool, higher_is_better: bool = True, extra: dict | None = None) -> dict:
    ratio = (value / baseline if higher_is_better else baseline / value) if value and baseline else None
    result = {
        "name": name, "dataset": dataset, "metric": metric, "unit": unit, "value": round(value, 3),
        "baseline": round(baseline, 3), "ratio": round(ratio, 2) if ratio else None, "target": target,
        "met": met, "machine": machine(), "date": datetime.now(UTC).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def print_table(title: str, rows: list[tuple[str, str]]) -> None:
    width = max(len(label) for label, _ in rows)
    print(f"\n{title}\n" + "-" * (width + 24))
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


def index_built_and_signed_in(user):
    """The process's audience index built from scratch (seconds it took) and a test client signed in as
    `user`: how the in-process benchmarks start."""
    import time

    from django.test import Client

    from segments import engine

    engine.reset()
    started = time.perf_counter()
    engine.current_index()
    build_s = time.perf_counter() - started
    client = Client()
    client.force_login(user)
    return build_s, client
