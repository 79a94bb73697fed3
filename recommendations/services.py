"""Writes: a lookalike audience — checked and queued as a job, then built and saved as a segment."""

import time

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import Job
from core.services import fail_job, finish_job, queue_job, report_progress, start_job
from segments import engine
from segments.columns import bitmap_of
from segments.expression import from_json
from segments.models import Segment
from segments.services import save_picked_members, segment_audience

from . import lookalike
from .features import GROUPS, customer_features, defining_features
from .selectors import conversion_history

LOOKALIKE_TASK = "recommendations.jobs.build_lookalike"
MAX_SIZE = 5_000_000


def check_lookalike(*, seed: Segment, name: str, size: int | None, min_score: float | None,
                    features: list[str]) -> dict:
    """The job's parameters, or a ValidationError naming each bad field (nothing is queued)."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip() or _("Lookalike of %(seed)s") % {"seed": seed.name}
    try:
        Segment._meta.get_field("name").clean(name, None)
    except ValidationError as error:
        errors["name"] = list(error.messages)
    if "name" not in errors and Segment.objects.filter(name=name).exists():
        errors["name"] = [_("A segment named “%(name)s” exists already.") % {"name": name}]
    if (size is None) == (min_score is None):
        errors["size"] = [_("Give either a size (the best N customers) or a minimum score, not both.")]
    elif size is not None and not 1 <= size <= MAX_SIZE:
        errors["size"] = [_("The size must be between 1 and %(max)s.") % {"max": f"{MAX_SIZE:,}"}]
    elif min_score is not None and not 0 < min_score < 1:
        errors["min_score"] = [_("The minimum score must be between 0 and 1 (exclusive).")]
    unknown = [group for group in features if group not in GROUPS]
    if not features or unknown:
        errors["features"] = [_("Choose at least one of: %(groups)s.") % {"groups": ", ".join(GROUPS)}]
    if not errors and segment_audience(seed).count < lookalike.MIN_SEEDS:
        errors["seed_segment"] = [_("The seed segment has fewer than %(min)d customers: too few to learn from.")
                                  % {"min": lookalike.MIN_SEEDS}]
    if errors:
        raise ValidationError(errors)
    return {"seed_segment": seed.pk, "name": name, "size": size, "min_score": min_score,
            "features": [group for group in GROUPS if group in features]}


def queue_lookalike(*, by, seed: Segment, name: str = "", size: int | None = None, min_score: float | None = None,
                    features: list[str] | None = None) -> Job:
    params = check_lookalike(seed=seed, name=name, size=size, min_score=min_score,
                             features=list(GROUPS) if features is None else features)
    return queue_job(kind="lookalike", task=LOOKALIKE_TASK, by=by, params=params)


def build_lookalike(*, job_id) -> dict:
    """Fit the model on the seed, score everyone, save the pick as a snapshot segment. A redelivered job
    that finished returns its result; one that died mid-way overwrites the segment it had saved."""
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return job.result
    job = start_job(job_id=job_id, stage=_("Reading features"), total=4)
    params = job.params
    seed = Segment.objects.get(pk=params["seed_segment"])
    started = time.perf_counter()
    seeds = segment_audience(seed).bitmap
    index = engine.current_index()
    today = timezone.localdate()
    features = customer_features(index, params["features"], today, leave_out=defining_features(seed.expression))
    report_progress(job_id=job_id, processed=1, total=4, stage=_("Fitting the model"))
    try:
        model = lookalike.fit(features, seeds)
    except lookalike.SeedTooSmall as error:
        message = _("The seed segment has %(count)d customers on file now: at least %(min)d are needed.") % {
            "count": error.args[0], "min": lookalike.MIN_SEEDS}
        fail_job(job_id=job_id, errors=[message])
        return {"errors": [message]}
    report_progress(job_id=job_id, processed=2, total=4, stage=_("Scoring customers"))
    scores = lookalike.scores(features, model)
    chosen, cut = lookalike.select(features, scores, seeds, size=params["size"], min_score=params["min_score"])
    report_progress(job_id=job_id, processed=3, total=4, stage=_("Saving the segment"))
    history = conversion_history({"chosen": chosen, "seed": np.asarray(seeds.to_array(), dtype=np.int64),
                                  "everyone": features.ids})
    origin = {
        "kind": "lookalike", "job": str(job.pk), "seed_segment": seed.pk, "seed_name": seed.name,
        "seed_count": len(seeds), "model_version": model.version, "features": params["features"],
        "feature_count": len(features.names), "left_out": features.left_out, "sampled": model.sampled, "seeds_used": model.seeds,
        "size": params["size"], "min_score": params["min_score"], "score_cut": cut,
        "seed_auc": round(model.seed_auc, 4) if model.seed_auc is not None else None,
        "top_features": model.top_features(features.names), "expected_conversion": history,
        "scored": int(len(features.ids) - len(seeds & index.universe)), "as_of": timezone.now().isoformat(),
    }
    with transaction.atomic():
        previous = Segment.objects.filter(origin__job=str(job.pk)).first()
        segment = save_picked_members(
            name=params["name"], by=job.created_by, members=bitmap_of(chosen), origin=origin, segment=previous,
            expression={"not": from_json(seed.expression)},
            description=_("Lookalike of %(seed)s: %(count)s customers most like its %(seeds)s members.") % {
                "seed": seed.name, "count": f"{len(chosen):,}", "seeds": f"{len(seeds):,}"})
        result = {"segment": segment.pk, "name": segment.name, "count": len(chosen), "score_cut": cut,
                  "seed_auc": origin["seed_auc"], "model_version": model.version,
                  "took_seconds": round(time.perf_counter() - started, 2)}
        finish_job(job_id=job_id, result=result)
    return result
