"""JSON a database cannot keep — U+0000 (PostgreSQL's jsonb refuses it), other control characters, lone
surrogates — in any key or string of a request body is a 400 (or a rejected item) that names where it is,
never a 500. The API fuzzer found the first one: a NUL in a key of a new customer's extra attributes."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from activity.models import Event
from core.validators import refuse_unstorable_json
from customers.importing import import_customers
from customers.models import Customer
from segments.models import Segment
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

# Written as JSON text, the way a client sends them: "\ud800" decodes to a lone surrogate.
UNSTORABLE = ['{"note\\u0000": "x"}', '{"note": "a\\u0000b"}', '{"note": ["ok", {"deep": "\\ud800"}]}',
              '{"note": "bell\\u0007"}']


def post_json(client, path, text, method="post"):
    return getattr(client, method)(path, text.encode(), content_type="application/json")


@pytest.mark.parametrize("extra", UNSTORABLE)
def test_a_customer_with_unstorable_extra_attributes_is_a_400_and_nothing_changes(api_as, mia, alice, extra):
    client = api_as(mia)
    created = post_json(client, "/api/v1/customers/", f'{{"external_id": "N1", "name": "New", "extra": {extra}}}')
    assert created.status_code == 400 and "cannot be stored" in created.json()["extra"][0]
    assert not Customer.objects.filter(external_id="N1").exists()

    customer = CustomerFactory(owner=alice, extra={"before": "yes"})
    edited = post_json(client, f"/api/v1/customers/{customer.pk}/", f'{{"extra": {extra}}}', method="patch")
    assert edited.status_code == 400 and "extra" in edited.json()
    assert Customer.objects.get(pk=customer.pk).extra == {"before": "yes"}


def test_the_message_names_the_character_and_where_it_is():
    with pytest.raises(ValidationError) as raised:
        refuse_unstorable_json({"note": ["ok", {"deep": "ab\x00"}]}, path="extra")
    assert "U+0000 at position 3 of extra → note[1] → deep" in raised.value.messages[0]
    with pytest.raises(ValidationError) as raised:
        refuse_unstorable_json({"a": {"k\x01": 1}})
    assert "a key of a" in raised.value.messages[0]
    refuse_unstorable_json({"tab\tand newline\n": ["中文", 1, None, True, 2.5e300]})  # all storable


def test_an_event_with_unstorable_properties_is_a_rejected_item_beside_the_accepted(api_as, mia):
    CustomerFactory(external_id="c1")
    at = timezone.now().isoformat()
    items = [{"id": "e1", "customer": "c1", "type": "login", "occurred_at": at, "properties": {"ip": "10.0.0.1"}},
             {"id": "e2", "customer": "c1", "type": "login", "occurred_at": at, "properties": {"ip\u0000": "x"}},
             {"id": "e3", "customer": "c1", "type": "login", "occurred_at": at, "properties": {"ip": "\ud800"}}]
    response = post_json(api_as(mia), "/api/v1/events/", json.dumps({"items": items}))
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 1 and [item["index"] for item in body["rejected"]] == [1, 2]
    assert "properties" in body["rejected"][0]["errors"]
    assert list(Event.objects.values_list("external_id", flat=True)) == ["e1"]


@pytest.mark.parametrize("path", ["/api/v1/segments/preview/", "/api/v1/segments/"])
def test_an_expression_naming_an_unstorable_value_points_at_it(api_as, mia, path):
    text = '{"name": "Odd", "expression": {"field": "branch", "op": "in", "value": ["SZ01", "S\\u0000"]}}'
    response = post_json(api_as(mia), path, text)
    assert response.status_code == 400 and "cannot be stored" in json.dumps(response.json())
    assert not Segment.objects.exists()


def test_an_imported_extra_attribute_with_a_control_character_is_a_row_error(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_bytes(b"external_id,name,wechat_id\nC1,Zhang,wx\x07_1\nC2,Li,wx_2\n")
    report = import_customers(path)
    assert (report.created, report.rejected) == (1, 1)
    assert report.errors[0]["column"] == "wechat_id" and "control character" in report.errors[0]["message"]
    assert Customer.objects.get().extra == {"wechat_id": "wx_2"}
