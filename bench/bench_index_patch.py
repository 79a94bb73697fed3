"""Audience-index patch benchmark: what a range query costs right after 1,000 customers changed.

On the segment benchmark's dataset (1M customers at full size), the process index is warm; then
1,000 customers get new assets (one UPDATE, as an edit burst or a small import would), the index
catches up from the change feed, and the first `assets` range queries are timed against warm
ones (a warm query measured after other work of the same size, so that cold CPU caches count on
both sides; the hot-loop figure is printed too). The naive baseline, measured in the same run, is what the index did before issue 12: a
patch dropped the sorted numeric columns, so the first range query re-sorted every customer.
Target (full size): the first range query after the patch within 2x of a warm one.
"""

import statistics
import time

import numpy as np

from bench.bench_segments import SIZES, ensure_dataset
from bench.common import SIZE_NOTE, print_table, write_result

CHANGED = 1_000
ROUNDS = 15
TARGET_RATIO = 2.0
QUERIES = [(100_000, 500_000), (1_000_000, None), (None, 20_000)]


def _range_ms(index, low, high) -> float:
    started = time.perf_counter()
    index.numeric["assets"].range(low, True, high, False)
    return (time.perf_counter() - started) * 1000


def run(size: str, vendor: str) -> dict:
    from django.db import connection

    from customers import changes
    from customers.models import Customer
    from segments import engine
    from segments.engine import NumericColumn

    customers = SIZES[size]
    ensure_dataset(customers)
    warm_index = engine.AudienceIndex.built()
    warm = [_range_ms(warm_index, low, high) for _ in range(ROUNDS) for low, high in QUERIES]

    first_after_patch, second_after_patch, warm_after_work, patch_s, naive_first, accumulated = [], [], [], [], [], []
    ids = np.array(Customer.objects.order_by("?").values_list("pk", flat=True)[:CHANGED * ROUNDS])
    chained = warm_index
    for round_number in range(ROUNDS):
        chunk = [int(pk) for pk in ids[round_number * CHANGED:(round_number + 1) * CHANGED]]
        with connection.cursor() as cursor:
            cursor.execute("UPDATE customers_customer SET assets = assets + 1 WHERE id = ANY(%s)", [chunk])
        low, high = QUERIES[round_number % len(QUERIES)]
        # A warm query as a server sees it: after other work of the same size (the reads a patch
        # does), not in a hot loop — so that cold CPU caches count on both sides.
        engine._read_customers(chunk)
        engine._read_tag_bitmaps(chunk)
        warm_after_work.append(_range_ms(warm_index, low, high))
        # One 1,000-customer patch of the warm index (published indexes never change, so every
        # round starts from the same warm state) …
        started = time.perf_counter()
        news = changes.changes_since(warm_index.position, limit=engine.PATCH_LIMIT)
        patched = warm_index.patched(set(chunk), news.position)
        patch_s.append(time.perf_counter() - started)
        first_after_patch.append(_range_ms(patched, low, high))
        second_after_patch.append(_range_ms(patched, low, high))
        # … and the patches accumulated round after round, as a long-running process sees them.
        chained = chained.refreshed()
        accumulated.append(_range_ms(chained, low, high))
        # The old path: the column was rebuilt (one sort of every customer) before the first range.
        column = patched.numeric["assets"]
        keep = ~np.isin(column.ids, np.asarray(column.masked.to_array(), dtype=np.uint32))
        all_ids = np.concatenate([column.ids[keep], column.overlay_ids])
        all_values = np.concatenate([column.values[keep], column.overlay_values])
        started = time.perf_counter()
        NumericColumn(all_ids, all_values).range(low, True, high, False)
        naive_first.append((time.perf_counter() - started) * 1000)
    assert len(chained.universe) == customers

    hot_p50, first_p50 = statistics.median(warm), statistics.median(first_after_patch)
    warm_p50 = statistics.median(warm_after_work)
    naive_p50 = statistics.median(naive_first)
    ratio_to_warm = first_p50 / warm_p50
    met = ratio_to_warm <= TARGET_RATIO
    result = write_result(
        "index_patch", dataset=f"{customers:,} customers, {CHANGED:,} changed per round, {vendor}",
        metric="first assets range query after a patch (median)", unit="ms", value=first_p50, baseline=naive_p50,
        target=f"within {TARGET_RATIO:.0f}x of a warm range query" + SIZE_NOTE[size], met=met, higher_is_better=False,
        extra={"warm_p50_ms": round(warm_p50, 3), "ratio_to_warm": round(ratio_to_warm, 2),
               "warm_hot_loop_p50_ms": round(hot_p50, 3),
               "second_after_patch_p50_ms": round(statistics.median(second_after_patch), 3),
               "patch_p50_s": round(statistics.median(patch_s), 3), "rounds": ROUNDS,
               "accumulated_p50_ms": round(statistics.median(accumulated), 3),
               "accumulated_changed": CHANGED * ROUNDS},
    )
    print_table(f"Index patch benchmark ({result['dataset']})", [
        ("warm range query p50 (after other work of the same size)", f"{warm_p50:.2f} ms"),
        ("warm range query p50 (hot loop)", f"{hot_p50:.2f} ms"),
        ("first range query after a patch p50", f"{first_p50:.2f} ms ({ratio_to_warm:.2f}x warm)"),
        ("second range query after a patch p50", f"{statistics.median(second_after_patch):.2f} ms"),
        ("old path: re-sort, then the query p50", f"{naive_p50:.1f} ms ({naive_p50 / first_p50:.0f}x slower)"),
        ("patch itself (change feed + re-read 1,000 customers) p50", f"{statistics.median(patch_s) * 1000:.0f} ms"),
        (f"after {ROUNDS} patches accumulated (up to {CHANGED * ROUNDS:,} changed) p50",
         f"{statistics.median(accumulated):.2f} ms ({statistics.median(accumulated) / hot_p50:.2f}x hot loop)"),
        ("target", f"{result['target']} -> {'met' if met else 'NOT met'}"),
    ])
    return result
