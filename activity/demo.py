"""Synthetic, seeded activity: ~50 products, holdings snapshots, transactions with seasonality, events.

One generator for `seed_demo` (the bank-marketing customers, a small set) and the benchmarks (the
1M reference dataset, 20M transactions). Everything is drawn from numpy with a fixed seed, so two
machines get the same history, and written set-based (COPY on PostgreSQL).
- Products: 50, over every type, with risk levels that fit the type (deposits R1, stocks R4–R5 …).
- Investor profiles: each customer is conservative, protection-minded, balanced, growth or aggressive,
  drawn by their risk level (R1 mostly conservative, R5 mostly aggressive; no assessment: conservative
  or protection). A profile prefers some product types; what a customer buys and holds is drawn 65 %
  from their profile's types and 35 % by overall popularity — so products are bought together the way
  a real book's are, and the recommendations have structure to find (and a popularity baseline to beat).
- Transactions: per customer a Poisson number (mean `per_customer`) over the last `days` days, more
  in recent months, fewer on weekends, a peak in the last days of each month and quarter (salary
  and quarter-end wealth pushes); products by profile and Zipf-like popularity; kinds buy 45 %, redeem 15 %,
  sell 10 %, trade 15 %, deposit 10 %, withdraw 5 %; amounts lognormal by product type. A third of
  the customers lapsed 45–335 days ago (all their transactions are older).
- Events: logins, failed logins, product views, app opens, account-opening failures.
- Holdings: two snapshots (today − 35 and today − 3 days) of each holder's positions, the later one
  with market moves (some customers draw down 30 %+, for `asset_change_30d <= -0.3`).
Labelled: every transaction's channel is "demo", every event carries {"demo": true}.
"""

from datetime import timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from customers.models import Customer

from .ingest_write import insert_new, upsert_holdings
from .models import Event, Product, ProductType, Transaction

SEED = 20261201
TYPES = [  # type, how many, risk levels, median amount
    (ProductType.DEPOSIT, 6, (1,), 50_000), (ProductType.WEALTH, 10, (2, 3), 100_000),
    (ProductType.FUND, 14, (2, 3, 4), 20_000), (ProductType.BOND, 6, (1, 2), 80_000),
    (ProductType.STOCK, 6, (4, 5), 15_000), (ProductType.INSURANCE, 4, (1, 2), 30_000),
    (ProductType.MARGIN, 2, (5,), 200_000), (ProductType.ADVISORY, 2, (3,), 10_000),
]
LAPSED_SHARE = 0.3
KINDS = np.array(["buy", "redeem", "sell", "trade", "deposit", "withdraw"])
KIND_SHARES = [0.45, 0.15, 0.10, 0.15, 0.10, 0.05]
EVENT_TYPES = np.array(["login", "app_open", "product_view", "login_failed", "account_opening_failed"])
EVENT_SHARES = [0.35, 0.30, 0.25, 0.08, 0.02]
# Investor profiles: the product types each prefers (weights), and how likely each is per risk level.
PROFILES = [
    {"deposit": 3, "bond": 2, "wealth": 1},  # conservative
    {"insurance": 3, "deposit": 1, "bond": 1},  # protection
    {"wealth": 3, "bond": 1, "fund": 2},  # balanced
    {"fund": 3, "stock": 2, "advisory": 1},  # growth
    {"stock": 3, "margin": 2, "fund": 1},  # aggressive
]
PROFILE_BY_RISK = {  # risk level (0: no assessment) → probability of each profile
    0: [0.6, 0.4, 0, 0, 0], 1: [0.55, 0.3, 0.15, 0, 0], 2: [0.25, 0.2, 0.45, 0.1, 0],
    3: [0.1, 0.1, 0.4, 0.35, 0.05], 4: [0, 0.05, 0.2, 0.5, 0.25], 5: [0, 0, 0.1, 0.4, 0.5],
}
PROFILE_SHARE = 0.65  # of a customer's products drawn from their profile's types; the rest by popularity


@transaction.atomic
def ensure_products() -> list[Product]:
    """The 50 demo products (codes like FUND-07), created once."""
    rng = np.random.default_rng(SEED)
    today = timezone.localdate()
    for kind, count, risks, _median in TYPES:
        for number in range(1, count + 1):
            code = f"{kind.upper()[:5]}-{number:02d}"
            term = int(rng.choice([90, 180, 365, 730, 1095])) if kind in ("deposit", "wealth", "bond") else None
            launch = today - timedelta(days=int(rng.integers(60, 900)))
            Product.objects.get_or_create(code=code, defaults={
                "name": f"{kind.label} {number:02d}", "type": kind, "risk_level": int(rng.choice(risks)),
                "term_days": term, "min_amount": [1000, 10000, 50000][number % 3],
                "launch_date": launch, "maturity_date": launch + timedelta(days=term) if term else None})
    return list(Product.objects.filter(code__regex=r"^[A-Z]+-\d\d$").order_by("code"))


def _popularity(count: int) -> np.ndarray:
    weights = 1 / np.arange(1, count + 1) ** 0.9
    return weights / weights.sum()


def _preferences(products: list[Product]) -> np.ndarray:
    """Per profile, the probability of each product: its types' weights (popularity within a type),
    mixed with overall popularity."""
    popularity = _popularity(len(products))
    rows = []
    for weights in PROFILES:
        liked = np.array([weights.get(str(product.type), 0) for product in products], dtype=float) * popularity
        rows.append(PROFILE_SHARE * liked / liked.sum() + (1 - PROFILE_SHARE) * popularity)
    return np.array(rows)


def _profiles(customer_ids: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each customer's investor profile (an index into PROFILES), drawn by their risk level."""
    risk = dict(Customer.objects.filter(pk__in=customer_ids.tolist()).values_list("pk", "risk_level")) \
        if len(customer_ids) <= 50_000 else dict(Customer.objects.values_list("pk", "risk_level").iterator(10_000))
    levels = np.array([risk.get(int(pk)) or 0 for pk in customer_ids])
    profiles = np.zeros(len(customer_ids), dtype=np.int64)
    for level, shares in PROFILE_BY_RISK.items():
        chosen = levels == level
        profiles[chosen] = rng.choice(len(PROFILES), size=int(chosen.sum()), p=shares)
    return profiles


def _choose_products(profiles: np.ndarray, preferences: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A product (an index) per row, drawn from the row's profile."""
    which = np.zeros(len(profiles), dtype=np.int64)
    for profile in range(len(preferences)):
        rows = profiles == profile
        which[rows] = rng.choice(preferences.shape[1], size=int(rows.sum()), p=preferences[profile])
    return which


def _day_weights(days: int, today) -> np.ndarray:
    """Weights of the last `days` days (index 0 = today): recency, weekdays, month- and quarter-ends."""
    dates = pd.date_range(end=pd.Timestamp(today), periods=days)[::-1]
    weights = np.exp(-np.arange(days) / (days * 0.8))
    weights *= np.where(dates.dayofweek >= 5, 0.35, 1.0)
    weights *= np.where(dates.days_in_month - dates.day < 3, 1.8, 1.0)
    weights *= np.where(dates.is_quarter_end, 1.5, 1.0)
    return weights / weights.sum()


def write_activity(customer_ids: np.ndarray, *, per_customer: float = 6.0, events_per_customer: float = 3.0,
                   days: int = 365, seed: int = SEED, prefix: str = "demo", chunk: int = 2_000_000,
                   progress=None) -> dict:
    """Generate and write transactions, events and holdings for these customers; returns the counts.

    Idempotent by external id (`<prefix>-t…`): a second run of the same call writes nothing new."""
    progress = progress or (lambda message: None)
    products = ensure_products()
    rng = np.random.default_rng(seed)
    today = timezone.localdate()
    zone = ZoneInfo(settings.TIME_ZONE)
    product_ids = np.array([product.pk for product in products])
    medians = {kind: median for kind, _count, _risks, median in TYPES}
    product_medians = np.array([medians[product.type] for product in products], dtype=float)
    day_weights = _day_weights(days, today)
    counts = {"transactions": 0, "events": 0, "holdings": 0}

    preferences = _preferences(products)
    profiles = _profiles(customer_ids, np.random.default_rng(seed + 1))
    per = rng.poisson(per_customer, size=len(customer_ids))
    owners = np.repeat(customer_ids, per)
    owner_profiles = np.repeat(profiles, per)
    # A third of the customers lapsed some time ago: their transactions all fall before that day, so
    # the churn model and the lifecycle stages have dormant customers to find (as a real book has).
    lapsed_for = np.where(rng.random(len(customer_ids)) < LAPSED_SHARE,
                          rng.integers(45, days - 30, size=len(customer_ids)), 0)
    owner_lapse = np.repeat(lapsed_for, per)
    for start in range(0, len(owners), chunk):
        part = owners[start:start + chunk]
        size = len(part)
        lapse = owner_lapse[start:start + chunk]
        ages = rng.choice(days, size=size, p=day_weights)
        ages = lapse + ages * (days - lapse) // days
        seconds = rng.integers(8 * 3600, 22 * 3600, size=size)
        which = _choose_products(owner_profiles[start:start + chunk], preferences, rng)
        kinds = rng.choice(KINDS, size=size, p=KIND_SHARES)
        amounts = np.round(rng.lognormal(np.log(product_medians[which]) - 1.5, 0.9), 2)
        needs_product = np.isin(kinds, ["buy", "redeem", "sell"]) | (rng.random(size) < 0.5)
        local_days = pd.to_datetime(today) - pd.to_timedelta(ages, unit="D")
        at = (local_days + pd.to_timedelta(seconds, unit="s")).tz_localize(zone).tz_convert("UTC")
        frame = pd.DataFrame({
            "external_id": [f"{prefix}-t{start + number}" for number in range(size)],
            "customer_id": part, "product_id": pd.array(np.where(needs_product, product_ids[which], 0), dtype="Int64"),
            "kind": kinds, "amount": amounts, "occurred_at": at,
            "occurred_on": local_days.date, "channel": "demo", "created_at": timezone.now(),
        })
        frame.loc[~needs_product, "product_id"] = pd.NA
        counts["transactions"] += _insert_new(frame, Transaction._meta.db_table)
        progress(f"transactions: {min(start + chunk, len(owners)):,} of {len(owners):,}")

    per = rng.poisson(events_per_customer, size=len(customer_ids))
    owners = np.repeat(customer_ids, per)
    for start in range(0, len(owners), chunk):
        part = owners[start:start + chunk]
        size = len(part)
        ages = rng.choice(days, size=size, p=day_weights)
        local_days = pd.to_datetime(today) - pd.to_timedelta(ages, unit="D")
        at = (local_days + pd.to_timedelta(rng.integers(0, 86400, size=size), unit="s")).tz_localize(
            zone, nonexistent="shift_forward", ambiguous=False).tz_convert("UTC")
        frame = pd.DataFrame({
            "external_id": [f"{prefix}-e{start + number}" for number in range(size)], "customer_id": part,
            "type": rng.choice(EVENT_TYPES, size=size, p=EVENT_SHARES),
            "occurred_at": at,
            "occurred_on": local_days.date, "properties": '{"demo": true}', "created_at": timezone.now(),
        })
        counts["events"] += _insert_new(frame, Event._meta.db_table)
        progress(f"events: {min(start + chunk, len(owners)):,} of {len(owners):,}")

    holding = rng.random(len(customer_ids)) < 0.6
    holders = customer_ids[holding]
    positions = rng.integers(1, 4, size=len(holders))
    owners = np.repeat(holders, positions)
    which = _choose_products(np.repeat(profiles[holding], positions), preferences, rng)
    first = np.round(rng.lognormal(np.log(product_medians[which]), 0.8), 2)
    # Market moves and redemptions between the two snapshots; one holder in ten draws down 30 %+.
    move = np.where(rng.random(len(owners)) < 0.1, rng.uniform(0.2, 0.65, len(owners)),
                    rng.normal(1.02, 0.08, len(owners)))
    frame = pd.DataFrame({"customer_id": np.concatenate([owners, owners]),
                          "product_id": np.concatenate([product_ids[which], product_ids[which]]),
                          "as_of": [today - timedelta(days=35)] * len(owners) + [today - timedelta(days=3)] * len(owners),
                          "amount": np.concatenate([first, np.round(first * np.clip(move, 0, None), 2)])})
    frame = frame.drop_duplicates(["customer_id", "product_id", "as_of"])
    for start in range(0, len(frame), chunk):
        with transaction.atomic():
            created, updated = upsert_holdings(frame.iloc[start:start + chunk])
        counts["holdings"] += created + updated
    progress(f"holdings: {len(frame):,}")
    return counts


def _insert_new(frame: pd.DataFrame, table: str) -> int:
    with transaction.atomic():
        return insert_new(frame, table)
