"""Issue 20: values beyond what a field can hold are refused when the expression is parsed (a 400
with the position), never at launch time as an OverflowError."""

import pytest

from segments.expression import ExpressionError, from_json, parse

OUT_OF_RANGE = [
    ("age > 99999999999999999999", 6, "between 0 and 150"),
    ("created_at > 9999-12-31", 13, "2999-12-31"),
    ("assets >= 1e309", 10, "100,000,000,000,000"),
    ("vip AND assets BETWEEN 1 AND 1e20", 23, "100,000,000,000,000"),
    ("age BETWEEN 18 AND 200", 12, "between 0 and 150"),
    ("risk_level IN (1, 99999999999999999999999)", 14, "between 0 and 9"),
]


@pytest.mark.parametrize(("text", "position", "message"), OUT_OF_RANGE)
def test_out_of_range_values_are_refused_with_their_position(text, position, message):
    with pytest.raises(ExpressionError) as refused:
        parse(text)
    assert refused.value.position == position and message in refused.value.message


def test_out_of_range_json_values_are_refused_with_their_path():
    with pytest.raises(ExpressionError) as refused:
        from_json({"all": [{"tag": "vip"}, {"field": "created_at", "op": "between", "value": ["2020-01-01", "9999-12-31"]}]})
    assert refused.value.path == "all[1].value"


def test_values_within_range_still_parse():
    assert parse("age BETWEEN 0 AND 150 AND created_at >= 1900-01-01 AND assets < 99999999999999")


@pytest.mark.django_db
def test_the_api_answers_400_with_the_position(client, mia):
    client.force_login(mia)
    answer = client.post("/api/v1/segments/preview/", {"text": "vip AND age > 99999999999999999999"},
                         content_type="application/json")
    assert answer.status_code == 400 and answer.json()["position"] == 14
