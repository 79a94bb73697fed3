"""The scores half of the audience index: the published score run's values, in memory.

Scores change only when a run is published (scores.services.compute_scores), for every customer at
once. So they are not patched from the change feed: before every answer the index asks which run is
published (one indexed read) and, if it is another, loads that run's columns alone (~1 s per million
customers) instead of rebuilding tags and activity. A segment never mixes two runs.
"""

import numpy as np
import pandas as pd
from pyroaring import BitMap

from scores.models import CustomerScore
from scores.selectors import published_run_id, run_frame

from .columns import NumericColumn, bitmap_of, comparison_bounds

NUMERIC_SCORES = ("churn_risk", "p_alive", "expected_purchases_90d", "rfm_r", "rfm_f", "rfm_m", "intent_score",
                  "risk_preference")
CHOICE_SCORES = ("lifecycle", "intent_group", "consultation")
SCORE_FIELDS = NUMERIC_SCORES + CHOICE_SCORES


class ScoreIndex:
    """Published instances are never modified."""

    def __init__(self, run_id: int | None = None):
        self.run_id = run_id
        self.numeric: dict[str, NumericColumn] = {}
        self.choices: dict[str, dict[str, BitMap]] = {}

    @classmethod
    def built(cls, run_id: int | None) -> "ScoreIndex":
        index = cls(run_id)
        if run_id is None:
            return index
        frame = run_frame(run_id, list(SCORE_FIELDS))
        ids = frame.index.to_numpy(dtype=np.int64)
        for name in NUMERIC_SCORES:
            index.numeric[name] = NumericColumn(ids, pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float))
        for name in CHOICE_SCORES:
            values = frame[name].astype(object)
            index.choices[name] = {str(value): bitmap_of(np.asarray(positions, dtype=np.int64))
                                   for value, positions in values.groupby(values).groups.items()}
        return index

    def current(self) -> "ScoreIndex":
        """This index if its run is still the published one, else the published run's."""
        run_id = published_run_id()
        return self if run_id == self.run_id else ScoreIndex.built(run_id)

    def field(self, name: str, op: str, value, universe: BitMap) -> BitMap:
        if name in CHOICE_SCORES:
            values = self.choices.get(name, {})
            scored = BitMap.union(BitMap(), *values.values())
            if op == "isnull":
                return universe - scored if value else scored & universe
            if op == "eq":
                return BitMap(values.get(value, BitMap()))
            return scored - values.get(value, BitMap())  # ne: scored customers with another value
        column = self.numeric.get(name)
        present = column.present if column is not None else BitMap()
        if op == "isnull":
            return universe - present if value else BitMap(present)
        if column is None:
            return BitMap()
        if op == "ne":
            return present - self.field(name, "eq", value, universe)
        if op == "between":
            return column.range(float(value[0]), True, float(value[1]), True)
        return column.range(*comparison_bounds(op, float(value)))


def score_table() -> str:
    return CustomerScore._meta.db_table
