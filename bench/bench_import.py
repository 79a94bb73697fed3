"""Import benchmark: a synthetic customer file through the product's import engine, beside a
naive ORM-per-row import (update_or_create + get_or_create per tag) measured in the same run.

The naive baseline is timed on a sample (it would take hours on 1M rows) and reported as rows/s.
"""

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.common import SIZE_NOTE, print_table, write_result

SIZES = {"full": 1_000_000, "small": 50_000}
BASELINE_SAMPLE = {"full": 3_000, "small": 1_000}
TAGS, BRANCHES = 500, 40
TARGET_ROWS_PER_S = 20_000


def synthetic_file(rows: int, folder: Path) -> Path:
    """Customers with a branch, assets, risk, stage and ~3 Zipf-popular tags each."""
    rng = np.random.default_rng(42)
    weights = 1 / np.arange(1, TAGS + 1) ** 0.8
    weights /= weights.sum()
    tags = rng.choice(TAGS, size=(rows, 3), p=weights)
    frame = pd.DataFrame({
        "external_id": [f"S{n:08d}" for n in range(rows)],
        "name": [f"Customer {n}" for n in range(rows)],
        "phone": [f"13{n:09d}" for n in range(rows)],
        "branch": [f"BR{b:02d}" for b in rng.integers(0, BRANCHES, rows)],
        "assets": rng.lognormal(11, 1.5, rows).round(2),
        "risk_level": rng.integers(1, 6, rows),
        "lifecycle_stage": rng.choice(["potential", "new", "growth", "mature", "declining", "churned"], rows),
        "tags": ["|".join(f"t{t}" for t in sorted(set(row))) for row in tags],
    })
    path = folder / f"customers-{rows}.csv"
    frame.to_csv(path, index=False)
    return path


def reset_customers():
    """Empty the customer tables (TRUNCATE: a million deletes with signals would take minutes)."""
    from django.db import connection

    from accounts.services import ensure_branch
    from customers.models import ChangeLog, Customer, CustomerTag, Tag, TagChange

    tables = [model._meta.db_table for model in (CustomerTag, TagChange, Customer, Tag, ChangeLog)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
    for number in range(BRANCHES):
        ensure_branch(code=f"BR{number:02d}", name=f"Branch {number}")


def naive_import(frame: pd.DataFrame) -> None:
    """What a first version would do: one ORM round trip per row and per tag.

    The product's change-tracking signals are disconnected here, so the baseline pays only for
    the ORM round trips (a faster, more conservative baseline).
    """
    from django.db.models.signals import post_save

    from accounts.models import Branch
    from customers import signals
    from customers.models import Customer, CustomerTag, Tag

    branches = {branch.code: branch for branch in Branch.objects.all()}
    post_save.disconnect(signals.customer_changed, sender=Customer, dispatch_uid="customer-saved")
    post_save.disconnect(signals.customer_tag_changed, sender=CustomerTag, dispatch_uid="customer-tag-saved")
    post_save.disconnect(signals.tag_changed, sender=Tag, dispatch_uid="tag-saved")
    try:
        _naive_rows(frame, branches)
    finally:
        post_save.connect(signals.customer_changed, sender=Customer, dispatch_uid="customer-saved")
        post_save.connect(signals.customer_tag_changed, sender=CustomerTag, dispatch_uid="customer-tag-saved")
        post_save.connect(signals.tag_changed, sender=Tag, dispatch_uid="tag-saved")


def _naive_rows(frame, branches):
    from django.db import transaction

    from customers.models import Customer, CustomerTag, Tag

    with transaction.atomic():
        for row in frame.itertuples(index=False):
            customer, _ = Customer.objects.update_or_create(external_id=f"N{row.external_id}", defaults={
                "name": row.name, "phone": row.phone, "branch": branches[row.branch], "assets": row.assets,
                "risk_level": row.risk_level, "lifecycle_stage": row.lifecycle_stage,
            })
            for slug in row.tags.split("|"):
                tag, _ = Tag.objects.get_or_create(slug=slug, defaults={"name": slug})
                CustomerTag.objects.get_or_create(customer=customer, tag=tag)


def run(size: str, vendor: str) -> dict:
    from customers.importing import import_customers

    rows = SIZES[size]
    with tempfile.TemporaryDirectory() as folder:
        path = synthetic_file(rows, Path(folder))
        reset_customers()
        started = time.perf_counter()
        report = import_customers(path)
        first = time.perf_counter() - started
        assert report.created == rows and report.rejected == 0, report.as_result()
        started = time.perf_counter()
        again = import_customers(path)
        second = time.perf_counter() - started
        assert again.unchanged == rows

        sample = pd.read_csv(path, nrows=BASELINE_SAMPLE[size], dtype={"tags": str})
        naive_times = []
        for _ in range(3):
            started = time.perf_counter()
            naive_import(sample)
            naive_times.append(time.perf_counter() - started)
            from customers.models import Customer, CustomerTag
            CustomerTag.objects.filter(customer__external_id__startswith="N")._raw_delete("default")
            Customer.objects.filter(external_id__startswith="N")._raw_delete("default")
    product_rate = rows / first
    naive_rate = len(sample) / statistics.median(naive_times)
    result = write_result(
        "import", dataset=f"{rows:,} synthetic customers, ~3 Zipf tags each, {vendor}", metric="rows per second",
        unit="rows/s", value=product_rate, baseline=naive_rate, target=f">= {TARGET_ROWS_PER_S:,} rows/s on PostgreSQL" + SIZE_NOTE[size],
        met=product_rate >= TARGET_ROWS_PER_S,
        extra={"seconds": round(first, 2), "reimport_seconds": round(second, 2), "links": report.tag_links_added,
               "baseline_sample_rows": len(sample)},
    )
    print_table(f"Import benchmark ({result['dataset']})", [
        ("product: first import", f"{first:8.2f} s  {product_rate:>10,.0f} rows/s"),
        ("product: same file again (unchanged)", f"{second:8.2f} s  {rows / second:>10,.0f} rows/s"),
        (f"naive ORM per row (median of 3 x {len(sample):,})", f"{'':8}    {naive_rate:>10,.0f} rows/s"),
        ("ratio product / naive", f"{result['ratio']}x"),
        ("target", f"{result['target']} -> {'met' if result['met'] else 'NOT met'}"),
    ])
    return result
