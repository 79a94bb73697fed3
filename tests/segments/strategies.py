"""Hypothesis strategies for random expression trees over a known set of tags and values."""

from hypothesis import strategies as st

TAGS = ["vip", "wechat", "app_user", "recharged", "dormant", "followed"]
BRANCHES = ["SZ01", "SH02", "BJ01"]
OWNERS = ["alice", "bob"]
STAGES = ["potential", "new", "growth", "mature", "declining", "churned"]


def compare(field: str, ops: list[str], values):
    """Comparisons of one field with one of the given operators and a drawn value."""
    return st.builds(lambda op, value: {"field": field, "op": op, "value": value}, st.sampled_from(ops), values)


def comparisons():
    assets = st.sampled_from([0, 1_000, 50_000, 100_000, 500_000, 1_000_000])
    ages = st.integers(min_value=18, max_value=80)
    days = st.sampled_from(["2020-01-01", "2024-06-30", "2026-11-25", "2030-01-01"])
    ordered = ["eq", "ne", "lt", "lte", "gt", "gte"]
    pairs = st.tuples
    return st.one_of(
        compare("assets", ordered, assets),
        compare("assets", ["between"], pairs(assets, assets).map(sorted)),
        compare("risk_level", ["eq", "ne", "lt", "gte"], st.integers(1, 5)),
        compare("risk_level", ["isnull"], st.booleans()),
        compare("lifecycle_stage", ["in"], st.lists(st.sampled_from(STAGES), min_size=1, max_size=3)),
        compare("branch", ["eq", "ne"], st.sampled_from(BRANCHES)),
        compare("branch", ["isnull"], st.booleans()),
        compare("owner", ["in"], st.lists(st.sampled_from(OWNERS), min_size=1, max_size=2)),
        compare("gender", ["eq", "ne"], st.sampled_from(["F", "M", "U"])),
        compare("age", ordered, ages),
        compare("age", ["between"], pairs(ages, ages).map(sorted)),
        compare("created_at", ["lt", "gte", "eq"], days),
    )


def leaves():
    return st.one_of(st.builds(lambda tag: {"tag": tag}, st.sampled_from(TAGS)), comparisons())


def expressions(max_leaves: int = 12):
    return st.recursive(
        leaves(),
        lambda inner: st.one_of(
            st.builds(lambda kids: {"all": kids}, st.lists(inner, min_size=2, max_size=4)),
            st.builds(lambda kids: {"any": kids}, st.lists(inner, min_size=2, max_size=4)),
            st.builds(lambda kid: {"not": kid}, inner),
        ),
        max_leaves=max_leaves,
    )
