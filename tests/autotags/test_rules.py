"""Auto-tag rules: preview before saving, applied on save and after data changes, a history of who
entered and left, and a tag nobody can change by hand."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from autotags import services
from autotags.models import RuleApplication, TagRule
from customers.importing import import_customers
from customers.models import Customer, CustomerTag, Tag, TagChange
from customers.services import add_tag, delete_tag, merge_tags, remove_tag
from scores.models import CustomerScore
from scores.services import compute_scores
from segments import engine
from segments.services import preview
from tests.factories import CustomerFactory, TagFactory, UserFactory
from tests.scores.test_compute import scored  # noqa: F401 (a fixture)


def holders(slug: str) -> set[int]:
    return set(CustomerTag.objects.filter(tag__slug=slug).values_list("customer_id", flat=True))


@pytest.fixture
def manager(db):
    return UserFactory(role="marketing_manager")


def test_preview_counts_who_would_enter_and_leave_and_saves_nothing(db, manager):
    vip = TagFactory(slug="vip")
    rich = [CustomerFactory(assets=500_000) for _ in range(3)]
    CustomerFactory(assets=10, tags=[vip])
    engine.reset()
    found = services.preview_rule(text="assets >= 100000", slug="rich")
    assert found == {"text": "assets >= 100000", "members": 3, "entering": 3, "leaving": 0}
    assert not Tag.objects.filter(slug="rich").exists() and not TagRule.objects.exists()
    assert len(rich) == 3


def test_saving_applies_the_rule_and_records_who_entered_and_left(db, manager, django_capture_on_commit_callbacks):
    customers = [CustomerFactory(assets=amount) for amount in (10, 200_000, 300_000, 50)]
    engine.reset()
    with django_capture_on_commit_callbacks(execute=True):
        rule = services.save_rule(name="Rich", slug="rich", text="assets >= 100000", by=manager)
    assert rule.tag.source == Tag.Source.RULE
    assert holders("rich") == {customers[1].pk, customers[2].pk}
    assert preview(text="rich")["count"] == 2  # a segment on the tag sees it as soon as the job ends
    Customer.objects.filter(pk=customers[1].pk).update(assets=5)
    Customer.objects.filter(pk=customers[3].pk).update(assets=900_000)
    application = services.apply_rule(rule=rule, reason=RuleApplication.Reason.SCHEDULE)
    assert (application.entered, application.left, application.members) == (1, 1, 2)
    assert holders("rich") == {customers[2].pk, customers[3].pk}
    history = {(change.customer_id, change.action) for change in TagChange.objects.filter(tag_slug="rich")}
    assert history == {(customers[1].pk, "added"), (customers[2].pk, "added"), (customers[1].pk, "removed"),
                       (customers[3].pk, "added")}
    assert all(change.source == "rule" for change in TagChange.objects.filter(tag_slug="rich"))
    changed = services.preview_rule(text="assets >= 1000000", slug="rich")
    assert (changed["entering"], changed["leaving"], changed["members"]) == (0, 2, 0)


def test_a_rule_tag_is_read_only_by_hand_everywhere(db, manager, tmp_path, client):
    customer = CustomerFactory(assets=200_000)
    other = TagFactory(slug="other")
    engine.reset()
    rule = services.save_rule(name="Rich", slug="rich", text="assets >= 100000", by=manager)
    services.apply_rule(rule=rule, reason=RuleApplication.Reason.SAVED)
    tag = Tag.objects.get(slug="rich")
    for write in (lambda: add_tag(tag=tag, customers=Customer.objects.all(), by=manager),
                  lambda: remove_tag(tag=tag, customers=Customer.objects.all(), by=manager),
                  lambda: delete_tag(tag=tag, by=manager),
                  lambda: merge_tags(sources=[tag], target=other, by=manager),
                  lambda: merge_tags(sources=[other], target=tag, by=manager)):
        with pytest.raises(ValidationError, match="rule"):
            write()
    path = tmp_path / "customers.csv"
    path.write_text(f"external_id,name,tags\n{customer.external_id},A,rich|other\nNEW-1,B,other\n")
    report = import_customers(path)
    assert report.rejected == 1 and "rule" in report.errors[0]["message"]
    client.force_login(manager)
    response = client.post(f"/customers/{customer.pk}/tags/", {"tag": "rich", "op": "remove"}, follow=True)
    assert "rule" in response.content.decode()
    assert holders("rich") == {customer.pk}


def test_a_rule_cannot_name_its_own_tag_and_bad_expressions_point_at_the_error(db, manager, client):
    engine.reset()
    CustomerFactory()
    rule = services.save_rule(name="Some", slug="some", text="assets >= 1", by=manager)
    with pytest.raises(ValidationError):
        services.save_rule(name="Some", text="some AND assets >= 1", rule=rule, by=manager)
    client.force_login(manager)
    response = client.post("/auto-tags/new/", {"name": "Bad", "slug": "bad", "text": "assets >= ", "preview": "1"})
    assert response.status_code == 200 and "character" in response.content.decode()
    assert not Tag.objects.filter(slug="bad").exists()


def test_deleting_a_rule_keeps_its_tag_as_an_ordinary_one(db, manager):
    customer = CustomerFactory(assets=200_000)
    engine.reset()
    rule = services.save_rule(name="Rich", slug="rich", text="assets >= 100000", by=manager)
    services.apply_rule(rule=rule, reason=RuleApplication.Reason.SAVED)
    tag = services.delete_rule(rule=rule)
    assert tag.source == Tag.Source.MANUAL and holders("rich") == {customer.pk}
    remove_tag(tag=tag, customers=Customer.objects.all(), by=manager)


def test_a_score_band_rule_follows_each_score_run(scored, manager, django_capture_on_commit_callbacks):  # noqa: F811
    today, _history, run, _rows = scored
    engine.reset()
    with django_capture_on_commit_callbacks(execute=True):
        services.save_rule(name="Churn warning", slug="churn-warning", text="churn_risk >= 0.5", by=manager)
    assert holders("churn-warning") == set(CustomerScore.objects.filter(run=run, churn_risk__gte=0.5)
                                           .values_list("customer_id", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        later = compute_scores(as_of=today + timedelta(days=120))  # publishing re-applies the rules
    expected = set(CustomerScore.objects.filter(run=later, churn_risk__gte=0.5).values_list("customer_id", flat=True))
    assert holders("churn-warning") == expected
    assert RuleApplication.objects.filter(reason=RuleApplication.Reason.SCORES).count() == 1
    assert timezone.now() >= RuleApplication.objects.first().at


def test_the_rule_pages_preview_save_and_show_history(db, manager, client, django_capture_on_commit_callbacks):
    CustomerFactory(assets=200_000)
    engine.reset()
    client.force_login(manager)
    response = client.post("/auto-tags/new/", {"name": "Rich", "slug": "rich", "text": "assets >= 100000",
                                                "active": "on", "preview": "1"})
    assert "data-entering>1<" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/auto-tags/new/", {"name": "Rich", "slug": "rich", "text": "assets >= 100000",
                                                    "active": "on", "save": "1"})
    rule = TagRule.objects.get()
    assert response.status_code == 302
    page = client.get(f"/auto-tags/{rule.pk}/").content.decode()
    assert "data-applications" in page and "entered" in page
    assert "rich" in client.get("/auto-tags/").content.decode()
    assert client.get("/auto-tags/", follow=False).status_code == 200
    client.force_login(UserFactory(role="account_manager"))
    assert client.get("/auto-tags/").status_code == 403


def test_deleting_from_the_page_needs_the_slug_typed(db, manager, client):
    CustomerFactory(assets=200_000)
    engine.reset()
    rule = services.save_rule(name="Rich", slug="rich", text="assets >= 100000", by=manager)
    client.force_login(manager)
    assert client.post(f"/auto-tags/{rule.pk}/delete/", {"confirm": "ric"}).status_code == 302
    assert TagRule.objects.filter(pk=rule.pk).exists()
    client.post(f"/auto-tags/{rule.pk}/delete/", {"confirm": "rich"})
    assert not TagRule.objects.exists() and Tag.objects.get(slug="rich").source == Tag.Source.MANUAL
