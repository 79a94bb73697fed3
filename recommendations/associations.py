"""Association rules ("bought A, also bought C") over baskets held as bitmaps.

A basket is a customer; an item is a product; `baskets` maps each product to the customers whose
basket holds it (the audience index keeps these bitmaps for current holdings and for purchases).
Frequent itemsets are found level by level (apriori: an itemset can be frequent only if all its
subsets are), each counted by intersecting bitmaps, so a million customers cost a few hundred
intersections, not a scan of the transactions. Rules follow mlxtend's definitions, so its documented
example reproduces exactly (tests/recommendations):
    support(X)          = customers holding every item of X / customers in scope with any item
    confidence(A → C)   = support(A ∪ C) / support(A)
    lift(A → C)         = confidence(A → C) / support(C)
"""

from dataclasses import dataclass
from itertools import combinations

from pyroaring import BitMap

# A guard, not a tuning knob: below a support of ~1/10,000 a catalogue of a few hundred products has
# hundreds of thousands of "frequent" triples, and no marketer reads that many rules.
MAX_ITEMSETS = 50_000


class TooManyItemsets(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    antecedent: tuple[int, ...]
    consequent: tuple[int, ...]
    support: float
    confidence: float
    lift: float
    customers: int  # in scope holding the antecedent and the consequent
    antecedent_support: float
    consequent_support: float


def baskets_in_scope(baskets: dict[int, BitMap], scope: BitMap | None) -> tuple[dict[int, BitMap], int]:
    """The bitmaps limited to a scope (a branch, say), without empty items, and the number of baskets:
    customers in scope holding at least one of the items."""
    limited = {item: (members & scope if scope is not None else members) for item, members in baskets.items()}
    limited = {item: members for item, members in limited.items() if members}
    total = len(BitMap.union(BitMap(), *limited.values())) if limited else 0
    return limited, total


def frequent_itemsets(baskets: dict[int, BitMap], total: int, *, min_support: float,
                      max_len: int) -> dict[tuple[int, ...], int]:
    """Every itemset (sorted item tuple) whose support is at least min_support, with its count."""
    if total == 0:
        return {}
    found: dict[tuple[int, ...], int] = {}
    level: dict[tuple[int, ...], BitMap] = {}
    for item in sorted(baskets):
        count = len(baskets[item])
        if count / total >= min_support:
            found[(item,)] = count
            level[(item,)] = baskets[item]
    size = 1
    while level and size < max_len:
        size += 1
        candidates = _candidates(sorted(level), size)
        following: dict[tuple[int, ...], BitMap] = {}
        for itemset in candidates:
            members = level[itemset[:-1]] & baskets[itemset[-1]]
            if len(members) / total >= min_support:
                found[itemset] = len(members)
                following[itemset] = members
            if len(found) > MAX_ITEMSETS:
                raise TooManyItemsets(len(found))
        level = following
    return found


def _candidates(frequent: list[tuple[int, ...]], size: int) -> list[tuple[int, ...]]:
    """Itemsets of `size` items made of two frequent ones sharing their first size − 2 items, kept only
    when every subset of size − 1 is frequent."""
    known = set(frequent)
    result = []
    for position, first in enumerate(frequent):
        for second in frequent[position + 1:]:
            if first[:-1] != second[:-1]:
                break  # sorted: no later itemset shares the prefix
            itemset = first + second[-1:]
            if all(subset in known for subset in combinations(itemset, size - 1)):
                result.append(itemset)
    return result


def rules_from(itemsets: dict[tuple[int, ...], int], total: int, *, min_confidence: float) -> list[Rule]:
    """Every rule A → C with A ∪ C a frequent itemset and confidence at least min_confidence, strongest
    lift first."""
    rules = []
    for itemset, count in itemsets.items():
        if len(itemset) < 2:
            continue
        for consequent_size in range(1, len(itemset)):
            for consequent in combinations(itemset, consequent_size):
                antecedent = tuple(item for item in itemset if item not in consequent)
                confidence = count / itemsets[antecedent]
                if confidence < min_confidence:
                    continue
                consequent_support = itemsets[consequent] / total
                rules.append(Rule(antecedent=antecedent, consequent=consequent, support=count / total,
                                  confidence=confidence, lift=confidence / consequent_support, customers=count,
                                  antecedent_support=itemsets[antecedent] / total,
                                  consequent_support=consequent_support))
    rules.sort(key=lambda rule: (-rule.lift, -rule.confidence, -rule.support, rule.antecedent, rule.consequent))
    return rules


def association_rules(baskets: dict[int, BitMap], *, scope: BitMap | None = None, min_support: float,
                      min_confidence: float, max_len: int = 3) -> tuple[list[Rule], int]:
    """The rules among these baskets (limited to a scope), and the number of baskets they count."""
    limited, total = baskets_in_scope(baskets, scope)
    itemsets = frequent_itemsets(limited, total, min_support=min_support, max_len=max_len)
    return rules_from(itemsets, total, min_confidence=min_confidence), total
