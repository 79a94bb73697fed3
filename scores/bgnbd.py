"""The BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005), fitted with scipy.

Why our own forty lines rather than a library: `lifetimes` is archived (last release 2020) and its
successor, PyMC-Marketing, brings PyMC and a compiler toolchain for a four-parameter maximum
likelihood. The paper's closed-form likelihood (its equation 6), the conditional expectation (its
equation 10) and P(alive) (Fader, Hardie & Lee's 2008 note on it) are short, and the CDNOW check
(tests/scores/test_cdnow.py) reproduces the published estimates.

Inputs per customer, in weeks: frequency x (repeat purchase days), recency t_x (first to last
purchase), age T (first purchase to the end of the observation).
"""

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

LOW, HIGH = 1e-6, 1e6  # the parameters' search range


@dataclass(frozen=True)
class Fit:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int
    at_bound: tuple[str, ...] = ()  # parameters the search stopped within 10× of a bound (no signal for them)

    def as_dict(self) -> dict:
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b,
                "log_likelihood": self.log_likelihood, "customers": self.customers, "at_bound": list(self.at_bound)}


def log_likelihood(params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood under (r, alpha, a, b)."""
    r, alpha, a, b = params
    log_a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    log_a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b) - special.gammaln(a + b + x)
    log_a3 = -(r + x) * np.log(alpha + T)
    # A4 exists only for repeat buyers; where x = 0 its log is -inf and logaddexp leaves A3. Written
    # b + (x − 1): with b near 0, b + x − 1 loses b to rounding (1 + 1e-16 == 1) and divides by zero.
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + (x - 1), 1e-300)) - (r + x) * np.log(alpha + t_x),
                          -np.inf)
    return log_a1 + log_a2 + np.logaddexp(log_a3, log_a4)


def fit(x, t_x, T, *, start: dict | None = None) -> Fit:
    """Maximum-likelihood estimates; parameters searched in log space (all four are positive), from
    `start` ({r, alpha, a, b}: the last run's estimates move little from day to day) if given.

    Customers with the same (x, t_x, T) share one likelihood term, weighted by how many they are
    (days make whole weeks' sevenths, so most histories repeat). L-BFGS-B from the start; the
    Nelder-Mead simplex only when that fails to converge."""
    x, t_x, T = (np.asarray(values, dtype=float) for values in (x, t_x, T))
    if len(x) == 0:
        raise ValueError("no customers to fit")
    unique, weights = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    ux, ut_x, uT = unique[:, 0], unique[:, 1], unique[:, 2]

    def negative(log_params):
        return -(weights * log_likelihood(np.exp(log_params), ux, ut_x, uT)).sum()

    guess = [1.0, max(float(T.mean()), 1.0), 1.0, 1.0]
    if start and all(LOW < float(start.get(name, 0)) < HIGH for name in ("r", "alpha", "a", "b")):
        guess = [float(start[name]) for name in ("r", "alpha", "a", "b")]
    # Bounded: on data without a dropout signal the likelihood keeps rising towards r, α → ∞ and
    # a, b → 0, where gammaln differences of 1e17-sized numbers cancel to nonsense (a "log-likelihood" of
    # 0); within 1e-6 … 1e6 every term stays exact to ~1e-9, and a fit that ends near a bound says so.
    bounds = [(np.log(LOW), np.log(HIGH))] * 4
    options = {"ftol": 1e-13, "gtol": 1e-9, "maxiter": 5_000}
    best = optimize.minimize(negative, np.log(guess), method="L-BFGS-B", bounds=bounds, options=options)
    if not best.success:
        simplex = optimize.minimize(negative, np.log(guess), method="Nelder-Mead", bounds=bounds,
                                    options={"xatol": 1e-8, "fatol": 1e-8, "maxfev": 8_000})
        polished = optimize.minimize(negative, simplex.x, method="L-BFGS-B", bounds=bounds, options=options)
        best = min((best, simplex, polished), key=lambda found: found.fun)
    r, alpha, a, b = np.exp(best.x)
    at_bound = [name for name, value in zip(("r", "alpha", "a", "b"), best.x, strict=True)
                if min(abs(value - np.log(LOW)), abs(value - np.log(HIGH))) < np.log(10)]  # within 10×
    return Fit(r=float(r), alpha=float(alpha), a=float(a), b=float(b), log_likelihood=float(-best.fun),
               customers=len(x), at_bound=tuple(at_bound))


def p_alive(model: Fit, x, t_x, T) -> np.ndarray:
    """P(the customer is still active | x, t_x, T); 1 for customers with no repeat purchase."""
    x, t_x, T = (np.asarray(values, dtype=float) for values in (x, t_x, T))
    ratio = np.exp((model.r + x) * (np.log(model.alpha + T) - np.log(model.alpha + t_x)))
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = np.where(x > 0, model.a / np.maximum(model.b + (x - 1), 1e-300) * ratio, 0.0)
    return 1.0 / (1.0 + odds)


def expected_purchases(model: Fit, t: float, x, t_x, T) -> np.ndarray:
    """E[purchases in the next t weeks | x, t_x, T] (the paper's equation 10)."""
    x, t_x, T = (np.asarray(values, dtype=float) for values in (x, t_x, T))
    r, alpha, a, b = model.r, model.alpha, model.a, model.b
    hyper = special.hyp2f1(r + x, b + x, a + b + (x - 1), t / (alpha + T + t))
    first = (a + b + (x - 1)) / (a - 1)
    second = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyper
    ratio = ((alpha + T) / (alpha + t_x)) ** (r + x)
    with np.errstate(divide="ignore", invalid="ignore"):
        third = 1 + np.where(x > 0, a / np.maximum(b + (x - 1), 1e-300) * ratio, 0.0)
    return first * second / third
