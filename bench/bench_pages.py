"""Hot pages at 1M customers (issue 21): the customer list and API lists, index-served vs SQL.

On the segment benchmark's dataset (1M customers, ~20M tag links). Every URL goes through the whole
Django stack (session or token auth, middleware, filter, table or serializer, template) in-process,
ROUNDS times; the baseline is the same URL answered the SQL way (the audience index unregistered
from the list: what the product did before), measured in the same run. Queries per request are
counted on the product side, at two page depths, to show they do not grow with the data.
"""

import statistics
import time

from bench.bench_segments import SIZES, ensure_dataset
from bench.common import SIZE_NOTE, print_table, write_result

ROUNDS = {"full": 9, "small": 5}
TARGET_MS = 150


def _urls(segment_id: int) -> list[tuple[str, str, str]]:
    """(label, user, url): 'mia' is a marketing manager, 'am07' an account manager."""
    return [
        ("customer list, page 1", "mia", "/customers/"),
        ("customer list, page 2,000", "mia", "/customers/?page=2000"),
        ("tag + branch", "mia", "/customers/?tag=t3&branch=BR03"),
        ("a tag sorted by assets, page 100", "mia", "/customers/?tag=t1&sort=-assets&page=100"),
        ("two tags sorted by branch, page 10", "mia", "/customers/?tag=t1&tag=t2&sort=branch&page=10"),
        ("exact external id search", "mia", "/customers/?search=B654321"),
        ("name prefix search", "mia", "/customers/?search=Customer%2065432"),
        ("phone prefix search", "mia", "/customers/?search=1300065432"),
        ("account manager's own list, a tag", "am07", "/customers/?tag=t2"),
        ("API customers, tag + branch", "mia", "/api/v1/customers/?tag=t3&branch=BR03"),
        ("API customers, page 100", "mia", "/api/v1/customers/?page=100"),
        ("API segment members, page 1", "mia", f"/api/v1/segments/{segment_id}/members/"),
    ]


def _time(client, url: str, rounds: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return statistics.median(timings), len(captured)


def run(size: str, vendor: str) -> dict:
    from django.test import Client
    from rest_framework.test import APIClient

    from accounts.models import User
    from accounts.services import create_or_update_user
    from customers import listing
    from segments import engine
    from segments.services import save_segment

    ensure_dataset(SIZES[size])
    rounds = ROUNDS[size]
    mia = create_or_update_user(username="mia", role="marketing_manager")
    segment = save_segment(name="Bench members", text="t1 AND t2", by=mia)
    engine.current_index()  # a warm process, as gunicorn's workers are once started
    clients = {}
    for username in ("mia", "am07"):
        user = User.objects.get(username=username)
        web, api = Client(), APIClient()
        web.force_login(user)
        api.force_authenticate(user)
        clients[username] = (web, api)

    registered = listing._index
    rows, results = [], []
    for label, username, url in _urls(segment.pk):
        client = clients[username][1 if url.startswith("/api/") else 0]
        product_ms, queries = _time(client, url, rounds)
        listing._index = None
        try:
            naive_ms, _ = _time(client, url, max(3, rounds // 3))
        finally:
            listing._index = registered
        results.append({"label": label, "url": url, "p50_ms": round(product_ms, 1), "sql_p50_ms": round(naive_ms, 1),
                        "queries": queries, "met": product_ms <= TARGET_MS})
        rows.append((label, f"{product_ms:8.1f} ms  SQL {naive_ms:8.1f} ms  {naive_ms / product_ms:5.1f}x  "
                            f"{queries:2d} queries  {'met' if product_ms <= TARGET_MS else 'NOT met'}"))
    rebuild = _previews_during_a_rebuild(clients["mia"][1])
    rows.append(("previews while a 60,000-customer change is rebuilt",
                 f"p50 {rebuild['p50_ms']:.1f} ms, max {rebuild['max_ms']:.1f} ms over {rebuild['answers']} previews "
                 f"(catching_up); exact after {rebuild['exact_after_s']:.1f} s, which each preview waited before"))
    deep = next(row for row in results if row["label"] == "customer list, page 2,000")
    first = next(row for row in results if row["label"] == "customer list, page 1")
    worst = max(row["p50_ms"] for row in results)
    print_table(f"Hot pages, {SIZES[size]:,} customers, median of {rounds}, target ≤ {TARGET_MS} ms{SIZE_NOTE[size]}",
                rows + [("queries, page 1 vs page 2,000", f"{first['queries']} vs {deep['queries']}")])
    segment.delete()
    return write_result(
        "pages", dataset=f"{SIZES[size]:,} customers, ~20 tags each", metric="slowest hot page, median",
        unit="ms", value=worst, baseline=max(row["sql_p50_ms"] for row in results), higher_is_better=False,
        target=f"every page ≤ {TARGET_MS} ms", met=all(row["met"] for row in results),
        extra={"pages": results, "previews_during_rebuild": rebuild})


def _previews_during_a_rebuild(api) -> dict:
    """Tag 60,000 customers at once (more than a patch takes: the index rebuilds), then preview until
    the answer is exact again: every preview meanwhile answers from the previous index."""
    from django.conf import settings

    from customers.models import Customer, Tag
    from customers.services import add_tag, delete_tag
    from segments import engine

    assert settings.AUDIENCE_INDEX_BACKGROUND_BUILD
    engine.current_index()
    tag, _created = Tag.objects.get_or_create(slug="bench-rebuild", defaults={"name": "bench-rebuild"})
    add_tag(tag=tag, customers=Customer.objects.filter(pk__lte=60_000))
    started, timings = time.perf_counter(), []
    while True:
        asked = time.perf_counter()
        answer = api.post("/api/v1/segments/preview/", {"text": "bench-rebuild"}, format="json").json()
        timings.append((time.perf_counter() - asked) * 1000)
        if not answer["catching_up"]:
            assert answer["count"] == 60_000, answer["count"]
            break
        time.sleep(0.2)
    exact_after = time.perf_counter() - started
    delete_tag(tag=tag)
    waiting = timings[:-1] or timings
    return {"answers": len(waiting), "p50_ms": round(statistics.median(waiting), 1), "max_ms": round(max(waiting), 1),
            "exact_after_s": round(exact_after, 1)}
