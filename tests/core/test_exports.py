from decimal import Decimal

import pytest

from core.exports import safe_cell


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", "=HYPERLINK(\"http://x\")"])
def test_text_that_a_spreadsheet_would_run_is_quoted(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["alice", "张三", "", "a=b", "1-2"])
def test_ordinary_text_is_left_alone(value):
    assert safe_cell(value) == value


def test_numbers_stay_numbers_even_when_negative():
    assert safe_cell(-5) == -5
    assert safe_cell(Decimal("-1.50")) == Decimal("-1.50")
    assert safe_cell(None) == ""
