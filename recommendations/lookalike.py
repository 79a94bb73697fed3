"""Lookalike audiences: rank every other customer by how much they resemble a seed crowd.

Positive-unlabelled learning, the usual way: the seeds are the positives, a random sample of everyone
else stands in for the negatives (most of them are not lookalikes), and a logistic regression over the
chosen features learns what sets the seeds apart. Its score for a customer is the model's probability
of "seed" with the classes balanced — a relative similarity in 0–1, not a probability of converting.
How well the seeds can be told apart is measured before the final fit, on a quarter of the training
rows held out (`seed_auc`: 0.5 = the seeds look like everyone, 1 = perfectly distinct).
"""

import hashlib
from dataclasses import dataclass

import numpy as np
import sklearn
from pyroaring import BitMap
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from segments.columns import bitmap_of

from .features import FeatureSet

MODEL_NAME = "lookalike-logistic-1"
NEGATIVES_PER_SEED = 5
MIN_NEGATIVES, MAX_NEGATIVES = 20_000, 200_000
MAX_SEEDS = 100_000  # a larger seed is sampled down to this: it says nothing more about who it is
MIN_SEEDS = 10


class SeedTooSmall(ValueError):
    pass


@dataclass
class Model:
    version: str
    weights: np.ndarray
    intercept: float
    seed_auc: float | None
    seeds: int
    sampled: int

    def top_features(self, names: list[str], count: int = 8) -> list[dict]:
        """The features that most raise the score (what the seeds have more of than everyone else)."""
        order = np.argsort(-self.weights, kind="stable")[:count]
        return [{"feature": names[number], "weight": round(float(self.weights[number]), 4)}
                for number in order if self.weights[number] > 0]


def fit(features: FeatureSet, seeds: BitMap, *, random_state: int = 0) -> Model:
    universe_ids = features.ids
    seed_ids = np.asarray((seeds & bitmap_of(universe_ids)).to_array(), dtype=np.int64)
    if len(seed_ids) < MIN_SEEDS:
        raise SeedTooSmall(len(seed_ids))
    rng = np.random.default_rng(random_state)
    if len(seed_ids) > MAX_SEEDS:
        seed_ids = np.sort(rng.choice(seed_ids, MAX_SEEDS, replace=False))
    others = np.setdiff1d(universe_ids, seed_ids, assume_unique=True)
    wanted = int(np.clip(len(seed_ids) * NEGATIVES_PER_SEED, MIN_NEGATIVES, MAX_NEGATIVES))
    sample = np.sort(rng.choice(others, min(wanted, len(others)), replace=False))
    rows = np.concatenate([seed_ids, sample])
    labels = np.concatenate([np.ones(len(seed_ids)), np.zeros(len(sample))])
    order = np.argsort(rows, kind="stable")
    rows, labels = rows[order], labels[order]
    matrix = features.matrix(rows)

    held_out = rng.random(len(rows)) < 0.25
    seed_auc = None
    if labels[held_out].sum() >= 5 and labels[~held_out].sum() >= 5:
        trial = _regression(random_state).fit(matrix[~held_out], labels[~held_out])
        seed_auc = float(roc_auc_score(labels[held_out], trial.decision_function(matrix[held_out])))
    model = _regression(random_state).fit(matrix, labels)
    digest = hashlib.sha256(seed_ids.tobytes() + "|".join(features.names).encode()).hexdigest()[:10]
    return Model(version=f"{MODEL_NAME}:{digest} (scikit-learn {sklearn.__version__})", weights=model.coef_[0],
                 intercept=float(model.intercept_[0]), seed_auc=seed_auc, seeds=len(seed_ids), sampled=len(sample))


def _regression(random_state: int) -> LogisticRegression:
    # Balanced classes: the seed is usually far smaller than its sample of others. L2 with the default
    # strength keeps a thousand correlated tags from fitting noise.
    return LogisticRegression(C=1.0, class_weight="balanced", max_iter=500, solver="lbfgs", random_state=random_state)


def scores(features: FeatureSet, model: Model) -> np.ndarray:
    """Every customer's score (by position in features.ids), 0–1."""
    return 1 / (1 + np.exp(-features.linear_scores(model.weights, model.intercept)))


def select(features: FeatureSet, all_scores: np.ndarray, seeds: BitMap, *, size: int | None,
           min_score: float | None) -> tuple[np.ndarray, float | None]:
    """The chosen customers (ids, best first), seeds excluded: the top `size`, or everyone scoring at
    least `min_score`; and the lowest score chosen."""
    candidates = ~np.isin(features.ids, np.asarray(seeds.to_array(), dtype=np.int64), assume_unique=True)
    positions = np.flatnonzero(candidates)
    if min_score is not None:
        positions = positions[all_scores[positions] >= min_score]
        positions = positions[np.argsort(-all_scores[positions], kind="stable")]
    else:
        count = min(size, len(positions))
        if count < len(positions):
            # Ties at the cut go by id (the stable sort below), so the same data gives the same crowd.
            part = np.argpartition(-all_scores[positions], count - 1)[:count] if count else np.empty(0, dtype=np.int64)
            cut = all_scores[positions[part]].min() if count else None
            better = positions[all_scores[positions] > cut] if cut is not None else positions[:0]
            tied = positions[all_scores[positions] == cut][:count - len(better)] if cut is not None else positions[:0]
            positions = np.concatenate([better, tied])
        positions = positions[np.argsort(-all_scores[positions], kind="stable")]
    chosen = features.ids[positions]
    return chosen, (float(all_scores[positions[-1]]) if len(positions) else None)
