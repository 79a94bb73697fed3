"""Issue 14: the demo's synthetic additions — names, conversion revenue, logged outcomes — are
seeded (the same every time), labelled, written only where the data has none, and safe to rerun."""

import pytest

from campaigns import demo
from campaigns.models import Campaign, Task
from customers.models import Customer
from tests.factories import CampaignFactory, CustomerFactory, TaskFactory

pytestmark = pytest.mark.django_db


def test_nameless_bank_customers_get_stable_chinese_names_labelled_synthetic():
    for number in range(1, 6):
        CustomerFactory(external_id=f"bank-{number}", name="")
    CustomerFactory(external_id="C-1", name="")  # not from the demo file: left alone
    assert demo.name_customers() == 5
    names = list(Customer.objects.filter(external_id__startswith="bank-").order_by("pk").values_list("name", flat=True))
    assert all(2 <= len(name) <= 3 and name[0] in demo.SURNAMES for name in names)
    assert Customer.objects.get(external_id="bank-1").extra["demo"] == "synthetic name"
    assert Customer.objects.get(external_id="C-1").name == ""
    assert demo.name_customers() == 0  # a second run changes nothing


def test_past_conversions_get_revenue_and_the_imported_campaigns_a_cost(mia):
    past = CampaignFactory(owner=mia, status="completed", imported=True, cost_per_contact=0)
    for response in ("converted", "converted", "declined"):
        TaskFactory(campaign=past, customer=CustomerFactory(), status="done", contact_result="reached",
                    response=response, failure_reason="price" if response == "declined" else "")
    logged = TaskFactory(campaign=past, customer=CustomerFactory(), status="done", contact_result="reached",
                         response="converted", amount=1234)
    assert demo.price_past_conversions([past.pk]) == 2
    amounts = sorted(Task.objects.filter(campaign=past, response="converted").values_list("amount", flat=True))
    assert len(amounts) == 3 and all(amount > 0 for amount in amounts)
    assert Task.objects.get(pk=logged.pk).amount == 1234  # a logged amount is kept
    past.refresh_from_db()
    assert past.cost_per_contact == demo.PAST_COST_PER_CONTACT and "synthetic" in past.objective


def test_a_running_campaign_gets_outcomes_its_managers_would_log_once(mia, alice):
    running = CampaignFactory(owner=mia, status="running")
    for _ in range(60):
        TaskFactory(campaign=running, customer=CustomerFactory(owner=alice), assignee=alice)
    logged = demo.log_demo_outcomes(Campaign.objects.get(pk=running.pk))
    done = Task.objects.filter(campaign=running).exclude(contact_result="")
    assert logged == done.count() and 10 < logged < 40  # about 40 % of 60
    assert all(task.note == demo.DEMO_NOTE for task in done)
    declined = done.filter(response__in=["declined", "not_interested"])
    assert declined.exists() and not declined.filter(failure_reason="").exists()
    assert demo.log_demo_outcomes(Campaign.objects.get(pk=running.pk)) == 0
