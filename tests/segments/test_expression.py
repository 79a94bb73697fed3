import pytest
from hypothesis import given, settings

from segments.expression import ExpressionError, from_json, parse, to_text
from tests.segments.strategies import expressions

DESIGN_EXAMPLE = "vip AND (wechat OR app_user) AND NOT recharged AND assets >= 1000000 AND branch IN (SZ01, SH02)"


def test_the_design_example_parses_to_the_documented_tree():
    assert parse(DESIGN_EXAMPLE) == {"all": [
        {"tag": "vip"},
        {"any": [{"tag": "wechat"}, {"tag": "app_user"}]},
        {"not": {"tag": "recharged"}},
        {"field": "assets", "op": "gte", "value": 1000000},
        {"field": "branch", "op": "in", "value": ["SH02", "SZ01"]},
    ]}


@pytest.mark.parametrize("text, tree", [
    ("a OR b AND c", {"any": [{"tag": "a"}, {"all": [{"tag": "b"}, {"tag": "c"}]}]}),
    ("NOT NOT a", {"tag": "a"}),
    ("(a AND b) AND c", {"all": [{"tag": "a"}, {"tag": "b"}, {"tag": "c"}]}),
    ("risk_level IS NOT NULL", {"field": "risk_level", "op": "isnull", "value": False}),
    ("age BETWEEN 30 AND 40 AND vip", {"all": [{"field": "age", "op": "between", "value": [30, 40]}, {"tag": "vip"}]}),
    ("lifecycle_stage = 'mature'", {"field": "lifecycle_stage", "op": "eq", "value": "mature"}),
    ("created_at < 2026-01-01", {"field": "created_at", "op": "lt", "value": "2026-01-01"}),
    ("a and not b or c", {"any": [{"all": [{"tag": "a"}, {"not": {"tag": "b"}}]}, {"tag": "c"}]}),
])
def test_text_forms(text, tree):
    assert parse(text) == tree


@pytest.mark.parametrize("text, position, words", [
    ("", 0, "empty"),
    ("vip AND", 7, "ends too early"),
    ("(vip OR wechat", 0, "never closed"),
    ("vip)", 3, "no matching"),
    ("vip wechat", 4, "Expected AND, OR"),
    ("colour = red", 0, "Unknown field"),
    ("assets >= lots", 10, "must be a number"),
    ("risk_level = 2.5", 13, "whole number"),
    ("lifecycle_stage = retired", 18, "must be one of"),
    ("created_at > yesterday", 13, "date"),
    ("assets BETWEEN 10 AND 1", 15, "low value first"),
    ("branch IN SZ01", 10, "parentheses"),
    ("Vip", 0, "not a tag slug"),
    ("vip AND AND wechat", 8, "Expected a tag"),
    ("name = 'x", 7, "not closed"),
    ("vip & wechat", 4, "Expected AND, OR"),
    ("vip ; wechat", 4, "Expected AND, OR"),
    ("assets >= 5 !", 12, "Unexpected"),
    ("gender < F", 7, "cannot be compared"),
])
def test_bad_text_points_at_the_problem(text, position, words):
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.position == position
    assert words in caught.value.message


@pytest.mark.parametrize("tree, path", [
    ([], "the expression"),
    ({"tag": "Bad Tag"}, "tag"),
    ({"all": []}, "all"),
    ({"all": [{"tag": "a"}, {"field": "colour", "op": "eq", "value": 1}]}, "all[1].field"),
    ({"any": [{"field": "assets", "op": "gte", "value": "x"}]}, "any[0].value"),
    ({"not": {"field": "assets", "op": "in", "value": 5}}, "not.value"),
    ({"field": "assets", "op": "like", "value": 5}, "op"),
    ({"field": "assets", "op": "gte"}, "value"),
    ({"tag": "a", "extra": 1}, "the expression"),
])
def test_bad_json_names_the_path(tree, path):
    with pytest.raises(ExpressionError) as caught:
        from_json(tree)
    assert caught.value.path == path


def test_a_huge_expression_is_refused_not_crashed():
    text = " OR ".join(f"t{n}" for n in range(600))
    with pytest.raises(ExpressionError, match="too large"):
        parse(text)
    deep = "(" * 200 + "a" + ")" * 200
    with pytest.raises(ExpressionError):
        parse(deep)


@settings(max_examples=300, deadline=None)
@given(expressions())
def test_printing_then_parsing_gives_the_same_tree(tree):
    normalised = from_json(tree)
    assert parse(to_text(normalised)) == normalised
    assert from_json(normalised) == normalised
