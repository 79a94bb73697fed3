"""Random events through the batch API — in random batches, some sent twice, out of time order —
make exactly the tasks a direct computation over the same events says: one per (rule, customer,
window) for each matching event of a customer in the rule's segment."""

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from campaigns.models import Task
from campaigns.triggers import services
from tests.factories import CustomerFactory, TagFactory

RULES = [  # name, event, properties, segment, window hours
    ("any login failure", "login_failed", {}, "", 24),
    ("kyc failure of vips", "account_opening_failed", {"step": "kyc"}, "vip", 24),
    ("heavy loss", "position_loss", {"loss_pct": {"gte": 20}}, "", 6),
    ("loss not in app", "position_loss", {"channel": {"ne": "app"}, "loss_pct": {"gt": 5}}, "NOT vip", 12),
    ("big redemption", "redemption", {"amount": {"gte": 100000}, "product": {"in": ["F1", "F2"]}}, "", 48),
]


def matches(conditions: dict, properties: dict) -> bool:
    for key, test in conditions.items():
        test = test if isinstance(test, dict) else {"eq": test}
        for op, wanted in test.items():
            if key not in properties:
                if op != "ne":
                    return False
                continue
            value = properties[key]
            if op == "eq":
                ok = value == wanted
            elif op == "ne":
                ok = value != wanted
            elif op == "in":
                ok = value in wanted
            else:
                ok = float(value) > wanted if op == "gt" else float(value) >= wanted
            if not ok:
                return False
    return True


def random_properties(rng, kind):
    if kind == "account_opening_failed":
        return {"step": rng.choice(["kyc", "id", "payment"])}
    if kind == "position_loss":
        return {"loss_pct": rng.choice([1, 5, 6, 19.5, 20, 35]), **({"channel": rng.choice(["app", "web"])}
                                                                     if rng.random() < 0.7 else {})}
    if kind == "redemption":
        return {"amount": rng.choice([5000, 100000, 250000]), "product": rng.choice(["F1", "F2", "F3"])}
    return {}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tasks_equal_the_direct_computation(db, seed, api_as, mia, alice, django_capture_on_commit_callbacks):
    rng = random.Random(seed)
    vip = TagFactory(slug="vip")
    customers = [CustomerFactory(owner=alice, tags=[vip] if rng.random() < 0.4 else [],
                                 do_not_contact=rng.random() < 0.1) for _ in range(25)]
    rules = [services.save_rule(by=mia, name=name, event=kind, properties=props, segment=segment, window_hours=hours)
             for name, kind, props, segment, hours in RULES]
    now = timezone.now()
    kinds = ["login_failed", "account_opening_failed", "position_loss", "redemption", "page_view"]
    events = []
    for number in range(400):
        kind = rng.choice(kinds)
        events.append({"id": f"e{number}", "customer": rng.choice(customers).external_id, "type": kind,
                       "occurred_at": (now - timedelta(minutes=rng.randrange(1, 23 * 60))).isoformat(),
                       "properties": random_properties(rng, kind)})
    sent = events + rng.sample(events, 60)  # some again
    rng.shuffle(sent)
    for start in range(0, len(sent), 37):
        with django_capture_on_commit_callbacks(execute=True):
            assert api_as(mia).post("/api/v1/events/", {"items": sent[start:start + 37]},
                                    format="json").status_code == 202

    zone, by_external = ZoneInfo(settings.TIME_ZONE), {customer.external_id: customer for customer in customers}
    expected = set()
    for item in events:
        customer = by_external[item["customer"]]
        is_vip = customer.tags.filter(slug="vip").exists()
        for rule, (_name, kind, props, segment, hours) in zip(rules, RULES, strict=True):
            in_segment = {"": True, "vip": is_vip, "NOT vip": not is_vip}[segment]
            if item["type"] != kind or not matches(props, item["properties"]) or not in_segment:
                continue
            if customer.do_not_contact:
                continue
            local = datetime.fromisoformat(item["occurred_at"]).astimezone(zone).replace(tzinfo=None)
            expected.add((rule.pk, customer.pk, int((local - datetime(1970, 1, 1)).total_seconds() // 3600) // hours))
    made = {(task.trigger_id, task.customer_id,
             services.conditions.window_of(task.trigger_event.occurred_at, task.trigger.window_hours))
            for task in Task.objects.select_related("trigger", "trigger_event")}
    assert Task.objects.count() == len(made)  # no two tasks for one (rule, customer, window)
    assert made == expected and len(expected) > 20
