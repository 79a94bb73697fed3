"""Lookalike audiences: the job, the segment it saves, its rules (seeds out, size or score cut), and
the API's refusals."""

import pytest
from pyroaring import BitMap

from campaigns.models import Task
from core.models import Job
from recommendations import services
from segments.expression import ExpressionError
from segments.models import Segment
from segments.services import refresh_snapshot, save_segment, segment_audience
from tests.factories import CampaignFactory, CustomerFactory, ProductFactory, TagFactory, TaskFactory
from tests.recommendations.data import hold


@pytest.fixture
def crowd(db, mia):
    """40 seeds (tag vip, hold FUND-A, risk 4), 60 lookalikes (FUND-A, risk 4, no vip) and 200 others."""
    vip = TagFactory(slug="vip")
    ProductFactory(code="FUND-A", risk_level=3)
    ProductFactory(code="DEP-1", risk_level=1)
    groups = {"seeds": [], "alike": [], "others": []}
    for name, count, tags, code, risk in (("seeds", 40, [vip], "FUND-A", 4), ("alike", 60, [], "FUND-A", 4),
                                          ("others", 200, [], "DEP-1", 1)):
        for _ in range(count):
            customer = CustomerFactory(tags=tags, risk_level=risk, assets=500_000 if risk == 4 else 5_000)
            hold(customer, code)
            groups[name].append(customer.pk)
    groups["segment"] = save_segment(name="VIP", text="vip", by=mia)
    return groups


def _run(mia, crowd, **options):
    job = services.queue_lookalike(by=mia, seed=crowd["segment"], **options)
    return job, services.build_lookalike(job_id=job.pk)


def test_the_best_n_are_the_lookalikes_and_never_the_seeds(crowd, mia):
    job, result = _run(mia, crowd, size=60)
    segment = Segment.objects.get(pk=result["segment"])
    members = set(segment_audience(segment).bitmap)
    assert len(members) == 60 == result["count"] == segment.snapshot_count
    assert not members & set(crowd["seeds"])
    assert len(members & set(crowd["alike"])) >= 55
    assert segment.kind == Segment.Kind.SNAPSHOT and segment.origin["kind"] == "lookalike"
    assert segment.origin["model_version"].startswith("lookalike-logistic-1:")
    assert segment.origin["seed_segment"] == crowd["segment"].pk and segment.origin["seed_count"] == 40
    assert segment.text == "NOT vip"
    assert segment.origin["left_out"] == ["tag vip"]  # the seed's definition, which would teach the model nothing
    assert Job.objects.get(pk=job.pk).state == Job.State.SUCCEEDED


def test_a_score_cut_keeps_only_those_scoring_at_least_it(crowd, mia):
    _job, result = _run(mia, crowd, min_score=0.5, name="Likely VIPs")
    segment = Segment.objects.get(name="Likely VIPs")
    assert result["score_cut"] >= 0.5 and segment.origin["min_score"] == 0.5
    members = set(segment_audience(segment).bitmap)
    assert members and members <= set(crowd["alike"]) | set(crowd["others"]) and members & set(crowd["alike"])


def test_history_of_the_chosen_crowd_counts_past_contacts(crowd, mia):
    campaign = CampaignFactory(owner=mia, status="running")
    for number, pk in enumerate(crowd["alike"][:40]):
        TaskFactory(campaign=campaign, customer_id=pk, status=Task.Status.DONE,
                    response=Task.Response.CONVERTED if number < 10 else Task.Response.DECLINED)
    _job, result = _run(mia, crowd, size=60)
    origin = Segment.objects.get(pk=result["segment"]).origin
    chosen = set(segment_audience(Segment.objects.get(pk=result["segment"])).bitmap)
    contacted = [pk for pk in crowd["alike"][:40] if pk in chosen]
    converted = [pk for pk in crowd["alike"][:10] if pk in chosen]
    assert origin["expected_conversion"]["chosen"]["contacted"] == len(contacted)
    assert origin["expected_conversion"]["chosen"]["converted"] == len(converted)
    assert origin["expected_conversion"]["everyone"] == {"contacted": 40, "converted": 10, "rate": 0.25}
    assert origin["expected_conversion"]["seed"]["rate"] is None  # no seed was contacted: not a rate of 0


def test_a_redelivered_job_returns_its_result_and_makes_no_second_segment(crowd, mia):
    job, result = _run(mia, crowd, size=20)
    assert services.build_lookalike(job_id=job.pk) == result
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING)  # as if the worker died after saving
    again = services.build_lookalike(job_id=job.pk)
    assert again["segment"] == result["segment"] and Segment.objects.filter(origin__job=str(job.pk)).count() == 1


def test_a_picked_segment_keeps_its_members(crowd, mia):
    _job, result = _run(mia, crowd, size=20)
    segment = Segment.objects.get(pk=result["segment"])
    before = BitMap.deserialize(bytes(segment.snapshot))
    with pytest.raises(ExpressionError):
        refresh_snapshot(segment=segment)
    with pytest.raises(ExpressionError):
        save_segment(segment=segment, name=segment.name, text="vip", kind=segment.kind, by=mia)
    renamed = save_segment(segment=segment, name="Renamed", text=segment.text, kind=segment.kind, by=mia)
    assert renamed.name == "Renamed" and BitMap.deserialize(bytes(Segment.objects.get(pk=segment.pk).snapshot)) == before


def test_the_api_queues_a_job_and_refuses_bad_input(crowd, api_as, mia, alice):
    client = api_as(mia)
    seed = crowd["segment"].pk
    response = client.post("/api/v1/segments/lookalike/", {"seed_segment": seed, "size": 10}, format="json")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["job"])
    assert job.kind == "lookalike" and job.params["size"] == 10 and job.params["name"] == "Lookalike of VIP"
    for body, field in [({"seed_segment": seed}, "size"), ({"seed_segment": seed, "size": 5, "min_score": 0.5}, "size"),
                        ({"seed_segment": 999999, "size": 5}, "seed_segment"),
                        ({"seed_segment": seed, "size": 5, "features": ["moods"]}, "features"),
                        ({"seed_segment": seed, "min_score": 1.5}, "min_score"),
                        ({"seed_segment": seed, "size": 5, "name": "VIP"}, "name"),
                        ({"seed_segment": seed, "size": 5, "name": "bad\u0007name"}, "name"),
                        ({"seed_segment": 10**30, "size": 5}, "seed_segment"), ({"seed_segment": seed, "size": 0}, "size")]:
        refused = client.post("/api/v1/segments/lookalike/", body, format="json")
        assert refused.status_code == 400 and field in refused.json(), (body, refused.json())
    assert Job.objects.filter(kind="lookalike").count() == 1
    assert api_as(alice).post("/api/v1/segments/lookalike/", {"seed_segment": seed, "size": 10},
                              format="json").status_code == 403


def test_a_tiny_seed_is_refused(db, mia):
    TagFactory(slug="rare")
    CustomerFactory(tags=[__import__("customers.models").models.Tag.objects.get(slug="rare")])
    seed = save_segment(name="Rare", text="rare", by=mia)
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.queue_lookalike(by=mia, seed=seed, size=5)
    assert "seed_segment" in error.value.message_dict


def test_the_pages_start_a_job_and_show_the_segment(crowd, web_as, mia):
    client = web_as(mia)
    response = client.post("/recommendations/lookalike/", {"seed_segment": crowd["segment"].pk, "size": 30,
                                                           "features": ["attributes", "tags", "behaviour"]})
    assert response.status_code == 302
    job = Job.objects.get(kind="lookalike")
    assert job.params["features"] == ["attributes", "tags", "behaviour"]
    services.build_lookalike(job_id=job.pk)
    page = client.get(response["Location"]).content.decode()
    assert "data-lookalike-done" in page
    segment = Segment.objects.get(pk=Job.objects.get(pk=job.pk).result["segment"])
    detail = client.get(f"/segments/{segment.pk}/").content.decode()
    assert "data-lookalike-origin" in detail and segment.origin["model_version"] in detail
    refused = client.post("/recommendations/lookalike/", {"seed_segment": crowd["segment"].pk,
                                                          "features": ["tags"]})
    assert refused.status_code == 200 and "size" in refused.context["form"].errors


def test_the_features_defining_a_seed_are_named(db):
    from recommendations.features import defining_features
    from segments.compiler import read_expression

    ProductFactory(code="FUND-A", type="fund")
    ProductFactory(code="FUND-B", type="fund")
    tree, _ = read_expression(text="vip AND (assets >= 100 OR branch = SZ01) AND NOT holds(DEP-1) "
                                   "AND bought(type = fund, 30d) AND churn_risk > 0.5 AND trades_30d >= 2")
    assert defining_features(tree) == {"tag vip", "assets (log)", "branch", "holds DEP-1", "bought FUND-A",
                                       "bought FUND-B", "score churn_risk", "trades in 30 days"}
