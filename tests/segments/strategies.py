"""Hypothesis strategies for random expression trees over a known set of tags and values."""

from hypothesis import strategies as st

TAGS = ["vip", "wechat", "app_user", "recharged", "dormant", "followed"]
BRANCHES = ["SZ01", "SH02", "BJ01"]
OWNERS = ["alice", "bob"]
STAGES = ["potential", "new", "growth", "mature", "declining", "churned"]


def comparisons():
    assets = st.sampled_from([0, 1_000, 50_000, 100_000, 500_000, 1_000_000])
    ages = st.integers(min_value=18, max_value=80)
    days = st.sampled_from(["2020-01-01", "2024-06-30", "2026-11-25", "2030-01-01"])
    return st.one_of(
        st.builds(lambda op, v: {"field": "assets", "op": op, "value": v}, st.sampled_from(["eq", "ne", "lt", "lte", "gt", "gte"]), assets),
        st.builds(lambda a, b: {"field": "assets", "op": "between", "value": sorted([a, b])}, assets, assets),
        st.builds(lambda op, v: {"field": "risk_level", "op": op, "value": v}, st.sampled_from(["eq", "ne", "lt", "gte"]),
                  st.integers(1, 5)),
        st.builds(lambda v: {"field": "risk_level", "op": "isnull", "value": v}, st.booleans()),
        st.builds(lambda v: {"field": "lifecycle_stage", "op": "in", "value": v}, st.lists(st.sampled_from(STAGES), min_size=1, max_size=3)),
        st.builds(lambda op, v: {"field": "branch", "op": op, "value": v}, st.sampled_from(["eq", "ne"]), st.sampled_from(BRANCHES)),
        st.builds(lambda v: {"field": "branch", "op": "isnull", "value": v}, st.booleans()),
        st.builds(lambda v: {"field": "owner", "op": "in", "value": v}, st.lists(st.sampled_from(OWNERS), min_size=1, max_size=2)),
        st.builds(lambda op, v: {"field": "gender", "op": op, "value": v}, st.sampled_from(["eq", "ne"]), st.sampled_from(["F", "M", "U"])),
        st.builds(lambda op, v: {"field": "age", "op": op, "value": v}, st.sampled_from(["eq", "ne", "lt", "lte", "gt", "gte"]), ages),
        st.builds(lambda a, b: {"field": "age", "op": "between", "value": sorted([a, b])}, ages, ages),
        st.builds(lambda op, v: {"field": "created_at", "op": op, "value": v}, st.sampled_from(["lt", "gte", "eq"]), days),
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
