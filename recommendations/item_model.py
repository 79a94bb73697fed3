"""Item-based collaborative filtering over baskets held as bitmaps (the next best product).

Two products are similar when the same customers hold both: cosine similarity of their holder sets,
|A ∩ B| / √(|A|·|B|). A customer's candidates score the sum of their similarity to each product the
customer holds; the reason quotes the evidence behind the two strongest contributions ("customers
holding A and B also hold C: 41 % of 2,310"), counted exactly from the bitmaps.
"""

import math
from dataclasses import dataclass

import numpy as np
from pyroaring import BitMap

# Below this many customers holding the two products together, the reason quotes the strongest one
# alone: "41 % of 12" is noise, not evidence.
MIN_EVIDENCE = 30


@dataclass(frozen=True)
class Evidence:
    """Of the `base` customers holding every product in `held`, `also` hold the candidate too."""

    held: tuple[int, ...]
    base: int
    also: int

    @property
    def share(self) -> float:
        return self.also / self.base if self.base else 0.0


@dataclass(frozen=True)
class Suggestion:
    item: int
    score: float
    evidence: Evidence
    basis: str  # "similar" (held products point to it) or "popular" (nothing held points to it)


class ItemModel:
    """Immutable: built from one set of baskets; `updated` reuses what did not change."""

    def __init__(self, baskets: dict[int, BitMap], *, _previous: "ItemModel | None" = None):
        self.baskets = baskets
        self.items = sorted(baskets)
        self.position = {item: number for number, item in enumerate(self.items)}
        self.sizes = np.array([len(baskets[item]) for item in self.items], dtype=float)
        self.holders = len(BitMap.union(BitMap(), *baskets.values())) if baskets else 0
        self.together = self._co_counts(_previous)
        norms = np.sqrt(np.outer(self.sizes, self.sizes))
        with np.errstate(divide="ignore", invalid="ignore"):
            self.similarity = np.where(norms > 0, self.together / norms, 0.0)
        np.fill_diagonal(self.similarity, 0.0)

    def _co_counts(self, previous: "ItemModel | None") -> np.ndarray:
        """|A ∩ B| for every pair; pairs of two unchanged products are copied from the previous model
        (an event or a tag patches the index several times a second and changes no holdings)."""
        size = len(self.items)
        counts = np.zeros((size, size))
        unchanged = set()
        if previous is not None:
            unchanged = {item for item in self.items
                         if item in previous.baskets and previous.baskets[item] == self.baskets[item]}
        for first in range(size):
            a = self.items[first]
            counts[first, first] = self.sizes[first]
            for second in range(first + 1, size):
                b = self.items[second]
                if a in unchanged and b in unchanged:
                    value = previous.together[previous.position[a], previous.position[b]]
                else:
                    value = self.baskets[a].intersection_cardinality(self.baskets[b])
                counts[first, second] = counts[second, first] = value
        return counts

    def updated(self, baskets: dict[int, BitMap]) -> "ItemModel":
        """This model if the baskets are the same, else a new one sharing the unchanged pairs."""
        if baskets is self.baskets:
            return self
        if baskets.keys() == self.baskets.keys() and all(baskets[item] == self.baskets[item] for item in baskets):
            return self
        return ItemModel(baskets, _previous=self)

    def held_by(self, customer_id: int) -> list[int]:
        return [item for item in self.items if customer_id in self.baskets[item]]

    def suggest(self, held: list[int], candidates: list[int], limit: int) -> list[Suggestion]:
        """The best `limit` candidates for a customer holding `held`: by similarity, then (for what
        nothing held points to) by how many customers hold them."""
        held_positions = [self.position[item] for item in held if item in self.position]
        scored, rest = [], []
        for item in candidates:
            if item in held:
                continue
            column = self.position.get(item)
            if column is None:
                continue
            weights = self.similarity[held_positions, column] if held_positions else np.empty(0)
            score = float(weights.sum())
            if score > 0:
                scored.append((score, item, weights))
            elif self.sizes[column] > 0:
                rest.append(item)
        scored.sort(key=lambda entry: (-entry[0], entry[1]))
        result = [Suggestion(item=item, score=round(score, 4), evidence=self._evidence(held_positions, weights, item),
                             basis="similar") for score, item, weights in scored[:limit]]
        rest.sort(key=lambda item: (-self.sizes[self.position[item]], item))
        for item in rest[:max(0, limit - len(result))]:
            size = int(self.sizes[self.position[item]])
            result.append(Suggestion(item=item, score=round(size / self.holders, 4) if self.holders else 0.0,
                                     evidence=Evidence(held=(), base=self.holders, also=size), basis="popular"))
        return result

    def _evidence(self, held_positions: list[int], weights: np.ndarray, item: int) -> Evidence:
        strongest = [held_positions[number] for number in np.argsort(-weights, kind="stable")[:2] if weights[number] > 0]
        target = self.baskets[item]
        if len(strongest) == 2:
            first, second = (self.items[number] for number in strongest)
            both = self.baskets[first] & self.baskets[second]
            if len(both) >= MIN_EVIDENCE:
                return Evidence(held=(first, second), base=len(both), also=both.intersection_cardinality(target))
        first = self.items[strongest[0]]
        return Evidence(held=(first,), base=len(self.baskets[first]),
                        also=int(self.together[strongest[0], self.position[item]]))


def cosine(a: BitMap, b: BitMap) -> float:
    """The similarity used above, for one pair (tests compare the matrix with it)."""
    return a.intersection_cardinality(b) / math.sqrt(len(a) * len(b)) if a and b else 0.0
