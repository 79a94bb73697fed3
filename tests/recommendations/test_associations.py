"""Association rules against independent computations: mlxtend's documented example (run through
mlxtend itself and against the figures its documentation prints), and pandas on generated baskets."""

from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from mlxtend.frequent_patterns import apriori
from mlxtend.frequent_patterns import association_rules as mlxtend_rules
from pyroaring import BitMap

from recommendations.associations import TooManyItemsets, association_rules, frequent_itemsets

# mlxtend divides by zero in a metric we do not use (certainty) on rules of confidence 1.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")

# https://rasbt.github.io/mlxtend/user_guide/frequent_patterns/association_rules/
DATASET = [["Milk", "Onion", "Nutmeg", "Kidney Beans", "Eggs", "Yogurt"],
           ["Dill", "Onion", "Nutmeg", "Kidney Beans", "Eggs", "Yogurt"],
           ["Milk", "Apple", "Kidney Beans", "Eggs"],
           ["Milk", "Unicorn", "Corn", "Kidney Beans", "Yogurt"],
           ["Corn", "Onion", "Onion", "Kidney Beans", "Ice cream", "Eggs"]]
# The rules the documentation prints for min_support=0.6, confidence ≥ 0.7: (antecedents, consequents,
# support, confidence, lift).
DOCUMENTED = {
    (("Kidney Beans",), ("Eggs",)): (0.8, 0.8, 1.0), (("Eggs",), ("Kidney Beans",)): (0.8, 1.0, 1.0),
    (("Eggs",), ("Onion",)): (0.6, 0.75, 1.25), (("Onion",), ("Eggs",)): (0.6, 1.0, 1.25),
    (("Milk",), ("Kidney Beans",)): (0.6, 1.0, 1.0), (("Onion",), ("Kidney Beans",)): (0.6, 1.0, 1.0),
    (("Yogurt",), ("Kidney Beans",)): (0.6, 1.0, 1.0),
    (("Kidney Beans", "Onion"), ("Eggs",)): (0.6, 1.0, 1.25), (("Eggs", "Onion"), ("Kidney Beans",)): (0.6, 1.0, 1.0),
    (("Eggs", "Kidney Beans"), ("Onion",)): (0.6, 0.75, 1.25), (("Onion",), ("Eggs", "Kidney Beans")): (0.6, 1.0, 1.25),
    (("Eggs",), ("Kidney Beans", "Onion")): (0.6, 0.75, 1.25),
}


def _bitmaps(baskets: list[list[str]]) -> tuple[dict[int, BitMap], list[str]]:
    names = sorted({item for basket in baskets for item in basket})
    bitmaps = {number: BitMap(row for row, basket in enumerate(baskets) if name in basket)
               for number, name in enumerate(names)}
    return bitmaps, names


def _ours(baskets, *, min_support, min_confidence, max_len=4) -> dict:
    bitmaps, names = _bitmaps(baskets)
    rules, total = association_rules(bitmaps, min_support=min_support, min_confidence=min_confidence, max_len=max_len)
    return {(tuple(sorted(names[i] for i in rule.antecedent)), tuple(sorted(names[i] for i in rule.consequent))):
            (rule.support, rule.confidence, rule.lift) for rule in rules}


def _mlxtend(baskets, *, min_support, min_confidence, max_len=4) -> dict:
    names = sorted({item for basket in baskets for item in basket})
    onehot = pd.DataFrame([[name in basket for name in names] for basket in baskets], columns=names)
    itemsets = apriori(onehot, min_support=min_support, use_colnames=True, max_len=max_len)
    if itemsets.empty:
        return {}
    rules = mlxtend_rules(itemsets, num_itemsets=len(onehot), metric="confidence", min_threshold=min_confidence)
    return {(tuple(sorted(row.antecedents)), tuple(sorted(row.consequents))): (row.support, row.confidence, row.lift)
            for row in rules.itertuples()}


def _assert_same(ours: dict, theirs: dict) -> None:
    assert ours.keys() == theirs.keys()
    for key, figures in theirs.items():
        assert ours[key] == pytest.approx(figures, abs=1e-12), key


def test_mlxtends_documented_example_reproduces_exactly():
    ours = _ours(DATASET, min_support=0.6, min_confidence=0.7)
    _assert_same(ours, DOCUMENTED)
    _assert_same(ours, _mlxtend(DATASET, min_support=0.6, min_confidence=0.7))


def test_frequent_itemsets_of_the_documented_example():
    bitmaps, names = _bitmaps(DATASET)
    found = frequent_itemsets(bitmaps, len(DATASET), min_support=0.6, max_len=3)
    named = {tuple(sorted(names[i] for i in itemset)): count / 5 for itemset, count in found.items()}
    assert named == {("Eggs",): 0.8, ("Kidney Beans",): 1.0, ("Milk",): 0.6, ("Onion",): 0.6, ("Yogurt",): 0.6,
                     ("Eggs", "Kidney Beans"): 0.8, ("Eggs", "Onion"): 0.6, ("Kidney Beans", "Milk"): 0.6,
                     ("Kidney Beans", "Onion"): 0.6, ("Kidney Beans", "Yogurt"): 0.6,
                     ("Eggs", "Kidney Beans", "Onion"): 0.6}


def _generated(seed: int, customers: int = 3000, products: int = 12) -> list[list[str]]:
    """Baskets with structure: three customer groups that favour different products."""
    rng = np.random.default_rng(seed)
    names = [f"P{number:02d}" for number in range(products)]
    baskets = []
    for _ in range(customers):
        group = rng.integers(3)
        weights = np.ones(products)
        weights[group * 4:(group + 1) * 4] = 6
        size = rng.integers(1, 6)
        baskets.append(sorted(set(rng.choice(names, size=size, p=weights / weights.sum()))))
    return baskets


def _pandas_rules(baskets, *, min_support, min_confidence, max_len) -> dict:
    """Straight from the definitions, with pandas: every itemset's support as a mean of an all-columns
    mask, every rule of every frequent itemset."""
    names = sorted({item for basket in baskets for item in basket})
    onehot = pd.DataFrame([[name in basket for name in names] for basket in baskets], columns=names)
    support = {}
    for size in range(1, max_len + 1):
        for itemset in combinations(names, size):
            value = onehot[list(itemset)].all(axis=1).mean()
            if value >= min_support:
                support[itemset] = value
    rules = {}
    for itemset, value in support.items():
        for size in range(1, len(itemset)):
            for consequent in combinations(itemset, size):
                antecedent = tuple(name for name in itemset if name not in consequent)
                confidence = value / support[antecedent]
                if confidence >= min_confidence:
                    rules[(antecedent, consequent)] = (value, confidence, confidence / support[consequent])
    return rules


@pytest.mark.parametrize("seed, min_support, min_confidence", [(1, 0.02, 0.2), (2, 0.01, 0.3), (3, 0.05, 0.1)])
def test_generated_baskets_match_pandas_and_mlxtend(seed, min_support, min_confidence):
    baskets = _generated(seed)
    ours = _ours(baskets, min_support=min_support, min_confidence=min_confidence, max_len=3)
    assert len(ours) > 20  # the check compares real rules, not two empty lists
    _assert_same(ours, _pandas_rules(baskets, min_support=min_support, min_confidence=min_confidence, max_len=3))
    _assert_same(ours, _mlxtend(baskets, min_support=min_support, min_confidence=min_confidence, max_len=3))


def test_a_scope_counts_only_its_customers():
    bitmaps, names = _bitmaps(DATASET)
    scope = BitMap([0, 1])  # the two baskets with Nutmeg
    rules, total = association_rules(bitmaps, scope=scope, min_support=1.0, min_confidence=1.0, max_len=2)
    assert total == 2
    pairs = {(names[rule.antecedent[0]], names[rule.consequent[0]]) for rule in rules}
    assert ("Nutmeg", "Onion") in pairs and ("Milk", "Eggs") not in pairs


def test_runaway_itemsets_are_refused(monkeypatch):
    monkeypatch.setattr("recommendations.associations.MAX_ITEMSETS", 10)
    bitmaps, _names = _bitmaps(_generated(4))
    with pytest.raises(TooManyItemsets):
        frequent_itemsets(bitmaps, 3000, min_support=0.001, max_len=3)
