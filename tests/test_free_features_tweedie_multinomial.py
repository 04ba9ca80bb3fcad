# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Certified fits of the Tweedie loss with features of penalty weight 0, and of
the multinomial log loss with ``positive=True`` and no penalty.

The Tweedie loss (``1 < p < 2``) has no closed-form conjugate: its numerical
one (:mod:`skgd.losses._tweedie_conjugate`) gives the projected duality gap of
:func:`~skgd._gaps.unpenalized_gap`, and with all weights positive the gap of
:func:`~skgd._gaps.numerical_gap_at`, which certifies ``"gd"``'s stop and
Newton's (where its decrement says stop). The multinomial fit with ``w >= 0`` and no
penalty is certified by the unconstrained Newton decrement (the softmax's
shift makes the constraint free). Checked here: no ConvergenceWarning at the
default tol and the objective within tol of scipy's L-BFGS-B on the exact
objective (dense, CSR, sample weights, float32); the KKT conditions in
float64 at a tight tol; a fit stopped by ``max_iter`` warns; the measures
bound the true suboptimality; the conjugate bounds the exact one from above.
"""

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import logsumexp
from sklearn.exceptions import ConvergenceWarning

from skgd import GDClassifier, GDRegressor
from skgd._backend import get_backend
from skgd._gaps import (
    numerical_gap_applies,
    numerical_gap_at,
    unpenalized_gap_applies,
    unpenalized_gap_at,
)
from skgd._objective import LinearObjective
from skgd.losses import MultinomialLogLoss, TweedieDeviance
from skgd.losses._tweedie_conjugate import conjugate_upper
from skgd.penalties import L1L2, NoPenalty
from skgd.solvers._positive_decrement import positive_decrement

N_FEATURES = 6
WEIGHTS = np.array([0.0, 1.0, 1.0, 0.0, 2.0, 1.0])
FREE = WEIGHTS == 0
RHO = {"l1": 1.0, "elasticnet": 0.5}
ALPHA = 0.01


def _tweedie_data(seed=0, n=300, zeros=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_FEATURES))
    X[:, 3] = 0.9 * X[:, 1] + 0.45 * X[:, 3]  # (correlated with a penalized one)
    coef = np.array([0.4, -0.3, 0.0, 0.2, 0.15, 0.0])
    y = rng.poisson(np.exp(X @ coef + 0.3)).astype(float)
    return X, (y if zeros else y + 0.1), rng.uniform(0.5, 2.0, n)


def _tweedie_unit(y, raw, p):
    mu = np.exp(raw)
    return (
        np.maximum(y, 0) ** (2 - p) / ((1 - p) * (2 - p))
        - y * mu ** (1 - p) / (1 - p)
        + mu ** (2 - p) / (2 - p)
    )


def _tweedie_value(X, y, s, w, b, rho, p, weights=WEIGHTS):
    """The exact objective in float64 (mean weighted loss plus the penalty)."""
    u = s / s.sum()
    data = u @ _tweedie_unit(y, X @ w + b, p)
    pen = rho * weights @ np.abs(w) + 0.5 * (1 - rho) * weights @ (w * w)
    return data + ALPHA * pen


def _tweedie_gradient(X, y, s, w, b, rho, p, weights=WEIGHTS):
    """The gradient of the smooth part (data and L2) in ``(w, b)``."""
    u = s / s.sum()
    mu = np.exp(X @ w + b)
    d = u * mu ** (1 - p) * (mu - y)
    return X.T @ d + ALPHA * (1 - rho) * weights * w, d.sum()


def _lbfgs_minimum(fun, bounds):
    """The minimum of ``fun`` (value and gradient) by L-BFGS-B from zero.

    ``ftol=0`` and ``gtol=1e-13``: it stops on the projected gradient only,
    far below any tol the fits are checked at.
    """
    options = {"ftol": 0.0, "gtol": 1e-13, "maxiter": 100_000, "maxcor": 30}
    res = minimize(
        fun,
        np.zeros(len(bounds)),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options=options,
    )
    return res.fun


def _tweedie_reference(X, y, s, rho, p, weights=WEIGHTS):
    """L-BFGS-B on the exact objective, ``w = w+ - w-`` on the penalized features."""
    k = N_FEATURES
    free = weights == 0

    def fun(z):
        plus, minus, b = z[:k], z[k : 2 * k], z[2 * k]
        w = plus - minus
        gw, gb = _tweedie_gradient(X, y, s, w, b, rho, p, weights)
        l1 = ALPHA * rho * weights
        grad = np.concatenate([gw + l1, -gw + l1, [gb]])
        return _tweedie_value(X, y, s, w, b, rho, p, weights), grad

    # (The features of weight 0 are free: their minus part is fixed at 0.)
    bounds = [(None, None) if f else (0.0, None) for f in free]
    bounds += [(0.0, 0.0) if f else (0.0, None) for f in free] + [(None, None)]
    return _lbfgs_minimum(fun, bounds)


def _null(X, y, s, p):
    """The objective at zero coefficients and the best intercept (tol's unit)."""
    res = minimize(lambda b: _tweedie_value(X, y, s, 0 * X[0], b[0], 1.0, p), [0.0])
    return res.fun


def _fit(est, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(*args, **kwargs)
    return est, [w for w in caught if issubclass(w.category, ConvergenceWarning)]


def _tweedie(penalty, p=1.5, weights=WEIGHTS, **params):
    return GDRegressor(
        loss="tweedie",
        power=p,
        penalty=penalty,
        alpha=ALPHA,
        l1_ratio=RHO[penalty],
        penalty_weights=weights,
        **params,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("p", [1.2, 1.5, 1.8])
def test_tweedie_default_tol_certified_within_tol(p, penalty, kind, dtype):
    X, y, s = _tweedie_data()
    Xf = X.astype(dtype)
    Xf = sp.csr_matrix(Xf) if kind == "csr" else Xf
    est, caught = _fit(_tweedie(penalty, p), Xf, y, sample_weight=s)
    assert not caught, [str(w.message) for w in caught]
    X64 = X.astype(dtype).astype(np.float64)
    rho = RHO[penalty]
    best = _tweedie_reference(X64, y, s, rho, p)
    value = _tweedie_value(X64, y, s, est.coef_, est.intercept_, rho, p)
    null = _null(X64, y, s, p)
    slack = 1e-6 * null if dtype == np.float32 else 1e-12 * null
    assert value - best <= est.tol * null + slack
    if penalty == "l1" and p == 1.5:
        assert np.any(est.coef_[~FREE] == 0.0), "the L1 part must give zeros"


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_tweedie_without_sample_weights_and_with_zero_targets(penalty):
    X, y, _ = _tweedie_data(seed=1, zeros=True)
    assert np.sum(y == 0) > 20
    est, caught = _fit(_tweedie(penalty), X, y)
    assert not caught, [str(w.message) for w in caught]
    s = np.ones_like(y)
    best = _tweedie_reference(X, y, s, RHO[penalty], 1.5)
    value = _tweedie_value(X, y, s, est.coef_, est.intercept_, RHO[penalty], 1.5)
    assert value - best <= est.tol * _null(X, y, s, 1.5) + 1e-12


@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_tweedie_tight_tol_meets_kkt_and_reference(penalty, kind):
    X, y, s = _tweedie_data(seed=2)
    Xf = sp.csr_matrix(X) if kind == "csr" else X
    # (1e-13: the safe gap's floor is the margin that covers the rounding of
    # the numerical conjugate and of the sums, about 4e-14 relative here.)
    est, caught = _fit(
        _tweedie(penalty, tol=1e-13, max_iter=50_000), Xf, y, sample_weight=s
    )
    assert not caught, [str(w.message) for w in caught]
    rho = RHO[penalty]
    w, b = est.coef_.astype(np.float64), float(est.intercept_)
    gw, gb = _tweedie_gradient(X, y, s, w, b, rho, 1.5)
    l1 = ALPHA * rho * WEIGHTS
    on = w != 0
    assert abs(gb) < 1e-7
    np.testing.assert_allclose(gw[FREE], 0.0, atol=1e-7)
    np.testing.assert_allclose(gw[on] + l1[on] * np.sign(w[on]), 0.0, atol=1e-7)
    assert np.all(np.abs(gw[~on]) <= l1[~on] + 1e-7)
    best = _tweedie_reference(X, y, s, rho, 1.5)
    value = _tweedie_value(X, y, s, w, b, rho, 1.5)
    assert value == pytest.approx(best, rel=1e-9)


def test_tweedie_max_iter_too_small_warns():
    X, y, s = _tweedie_data()
    est, caught = _fit(_tweedie("l1", max_iter=2), X, y, sample_weight=s)
    assert caught


def _tweedie_objective(X, y, s, rho, p=1.5):
    penalty = L1L2(ALPHA, rho, weights=tuple(WEIGHTS))
    loss = TweedieDeviance(power=p)
    return LinearObjective(get_backend(X), X, y, loss, penalty, sample_weight=s)


@pytest.mark.parametrize("seed", [0, 3, 4])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_tweedie_gap_bounds_the_suboptimality(penalty, seed):
    X, y, s = _tweedie_data(seed=seed)
    rho = RHO[penalty]
    objective = _tweedie_objective(X, y, s, rho)
    assert unpenalized_gap_applies(objective)
    best = _tweedie_reference(X, y, s, rho, 1.5)
    est = _tweedie(penalty, tol=1e-12, max_iter=50_000).fit(X, y, sample_weight=s)
    rng = np.random.default_rng(seed)
    for scale in [0.0, 1e-4, 1e-3, 1e-2, 1e-1]:
        w = est.coef_ + scale * rng.standard_normal(N_FEATURES)
        b = float(est.intercept_) + scale * rng.standard_normal()
        gap = unpenalized_gap_at(objective, w, objective.offset(w, b))
        excess = _tweedie_value(X, y, s, w, b, rho, 1.5) - best
        assert gap >= excess - 1e-13
        assert 2.0 * gap >= excess


@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_tweedie_gd_with_all_weights_positive_is_within_tol(penalty, seed, kind):
    # (It stopped on the proximal-gradient measure and was reported converged
    # up to 19x tol above the optimum.)
    X, y, s = _tweedie_data(seed=seed)
    Xf = sp.csr_matrix(X) if kind == "csr" else X
    ones = np.ones(N_FEATURES)
    est = _tweedie(penalty, weights=None, solver="gd")
    est, caught = _fit(est, Xf, y, sample_weight=s)
    assert not caught, [str(w.message) for w in caught]
    rho = RHO[penalty]
    best = _tweedie_reference(X, y, s, rho, 1.5, ones)
    value = _tweedie_value(X, y, s, est.coef_, est.intercept_, rho, 1.5, ones)
    assert value - best <= est.tol * _null(X, y, s, 1.5) + 1e-12
    objective = LinearObjective(
        get_backend(X),
        X,
        y,
        TweedieDeviance(power=1.5),
        L1L2(ALPHA, rho),
        sample_weight=s,
    )
    assert numerical_gap_applies(objective)
    rng = np.random.default_rng(seed)
    for scale in [0.0, 1e-3, 1e-1]:
        w = est.coef_ + scale * rng.standard_normal(N_FEATURES)
        b = float(est.intercept_) + scale * rng.standard_normal()
        gap = numerical_gap_at(objective, w, objective.offset(w, b))
        assert gap >= _tweedie_value(X, y, s, w, b, rho, 1.5, ones) - best - 1e-13


def test_tweedie_gd_max_iter_too_small_warns_with_all_weights_positive():
    X, y, s = _tweedie_data()
    est = _tweedie("l1", weights=None, solver="gd", max_iter=3)
    assert _fit(est, X, y, sample_weight=s)[1]


def test_tweedie_conjugate_is_a_tight_upper_bound():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 60
    rng = np.random.default_rng(5)
    for p in [1.01, 1.3, 1.5, 1.9, 1.99]:
        a, b = 2 - p, 1 - p
        y = np.append(rng.exponential(size=30) * 10 ** rng.uniform(-3, 3, 30), 0.0)
        s = np.append(rng.standard_normal(30) * 10 ** rng.uniform(-6, 3, 30), 0.7)
        upper, finite = conjugate_upper(y, s, p)
        assert np.all(finite)
        for yi, si, ui in zip(y, s, upper, strict=True):
            Y, S = mpmath.mpf(yi), mpmath.mpf(si)
            lo, hi = mpmath.mpf(-2000), mpmath.mpf(2000)
            for _ in range(400):  # (bisection on L'(f) = s)
                mid = (lo + hi) / 2
                if mpmath.exp(a * mid) - Y * mpmath.exp(b * mid) > S:
                    hi = mid
                else:
                    lo = mid
            f = (lo + hi) / 2
            const = Y**a / (a * b) if yi > 0 else 0
            loss = const - Y * mpmath.exp(b * f) / b + mpmath.exp(a * f) / a
            exact = float(S * f - loss)
            scale = abs(si * float(f)) + abs(float(const)) + abs(exact)
            assert exact <= ui <= exact + 1e-12 * scale
    # The domain where y = 0: s >= 0 only.
    upper, finite = conjugate_upper(np.zeros(3), np.array([-1.0, 0.0, 2.0]), 1.5)
    assert finite.tolist() == [False, True, True]
    assert upper[1] == 0.0
    assert upper[2] == pytest.approx(2.0 * np.log(2.0) / 0.5 - 2.0 / 0.5)


# --- The multinomial log loss with w >= 0 and no penalty -----------------


def _labels_data(seed=0, n=240, p=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    W = rng.standard_normal((3, p))
    raw = X @ W.T
    P = np.exp(raw - logsumexp(raw, axis=1, keepdims=True))
    labels = np.array([rng.choice(3, p=row) for row in P])
    return X, labels, rng.uniform(0.5, 2.0, n)


def _multinomial_value(X, labels, s, W, b):
    raw = X @ W.T + b
    data = logsumexp(raw, axis=1) - raw[np.arange(len(labels)), labels]
    return s @ data / s.sum()


def _multinomial_gradient(X, labels, s, W, b):
    raw = X @ W.T + b
    P = np.exp(raw - logsumexp(raw, axis=1, keepdims=True))
    d = (P - np.eye(3)[labels]) * (s / s.sum())[:, None]
    return d.T @ X, d.sum(axis=0)


def _multinomial_reference(X, labels, s):
    k = X.shape[1]

    def fun(z):
        W, b = z[: 3 * k].reshape(3, k), z[3 * k :]
        gW, gb = _multinomial_gradient(X, labels, s, W, b)
        return _multinomial_value(X, labels, s, W, b), np.append(gW.ravel(), gb)

    bounds = [(0.0, None)] * (3 * k) + [(None, None)] * 3
    return _lbfgs_minimum(fun, bounds)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
def test_multinomial_positive_certified_within_tol(weighted, kind, dtype):
    X, labels, s = _labels_data()
    s = s if weighted else np.ones_like(s)
    Xf = X.astype(dtype)
    Xf = sp.csr_matrix(Xf) if kind == "csr" else Xf
    est = GDClassifier(penalty=None, positive=True)
    est, caught = _fit(est, Xf, labels, sample_weight=s)
    assert not caught, [str(w.message) for w in caught]
    assert est.coef_.min() >= 0.0
    assert np.any(est.coef_ == 0.0)
    X64 = X.astype(dtype).astype(np.float64)
    best = _multinomial_reference(X64, labels, s)
    value = _multinomial_value(X64, labels, s, est.coef_, est.intercept_)
    slack = 1e-6 if dtype == np.float32 else 1e-12
    assert value - best <= est.tol * np.log(3.0) + slack


def test_multinomial_positive_tight_tol_meets_kkt_and_reference():
    X, labels, s = _labels_data(seed=1)
    est = GDClassifier(penalty=None, positive=True, tol=1e-14, max_iter=50_000)
    est, caught = _fit(est, X, labels, sample_weight=s)
    assert not caught, [str(w.message) for w in caught]
    W, b = est.coef_.astype(np.float64), est.intercept_.astype(np.float64)
    gW, gb = _multinomial_gradient(X, labels, s, W, b)
    # (The constraint is free: the gradient vanishes on every coefficient.)
    np.testing.assert_allclose(gW, 0.0, atol=1e-7)
    np.testing.assert_allclose(gb, 0.0, atol=1e-7)
    best = _multinomial_reference(X, labels, s)
    assert _multinomial_value(X, labels, s, W, b) == pytest.approx(best, rel=1e-9)


def test_multinomial_positive_max_iter_too_small_warns():
    X, labels, s = _labels_data()
    est = GDClassifier(penalty=None, positive=True, max_iter=2)
    assert _fit(est, X, labels, sample_weight=s)[1]


@pytest.mark.parametrize("seed", [0, 2])
def test_multinomial_positive_decrement_bounds_the_suboptimality(seed):
    X, labels, s = _labels_data(seed=seed)
    penalty = NoPenalty(positive=True)
    objective = LinearObjective(
        get_backend(X),
        X,
        labels.astype(float),
        MultinomialLogLoss(n_classes=3),
        penalty,
        sample_weight=s,
    )
    best = _multinomial_reference(X, labels, s)
    est = GDClassifier(penalty=None, positive=True, tol=1e-12, max_iter=50_000)
    est.fit(X, labels, sample_weight=s)
    rng = np.random.default_rng(seed)
    for scale in [0.0, 1e-3, 1e-2, 1e-1]:
        W = np.abs(est.coef_ + scale * rng.standard_normal(est.coef_.shape))
        b = est.intercept_ + scale * rng.standard_normal(3)
        # (The solvers' layout: coefficients (n_features, n_classes).)
        w = np.ascontiguousarray(W.T)
        measure = positive_decrement(objective, w, objective.offset(w, b))
        excess = _multinomial_value(X, labels, s, W, b) - best
        assert 2.0 * measure >= excess - 1e-13


@pytest.mark.parametrize("weights", [WEIGHTS, None])
def test_tweedie_dask_is_certified_and_equals_numpy(weights):
    da = pytest.importorskip("dask.array")
    X, y, s = _tweedie_data(n=200)
    est = _tweedie("l1", weights=weights, solver="gd", tol=1e-10)
    ref = est.fit(X, y, sample_weight=s)
    lazy = _tweedie("l1", weights=weights, solver="gd", tol=1e-10)
    lazy, caught = _fit(
        lazy,
        da.from_array(X, chunks=(50, N_FEATURES)),
        da.from_array(y, chunks=50),
        sample_weight=da.from_array(s, chunks=50),
    )
    assert not caught, [str(w.message) for w in caught]
    np.testing.assert_allclose(np.asarray(lazy.coef_), ref.coef_, atol=1e-6)


def test_numerical_conjugate_only_strictly_between_1_and_2():
    from skgd.losses import GammaDeviance, PoissonDeviance

    y, theta, u = np.array([1.0, 2.0]), np.array([0.1, -0.1]), np.full(2, 0.5)
    assert TweedieDeviance(power=1.5).has_numerical_conjugate
    assert TweedieDeviance(power=1.5).dual_value(y, theta, u) is not None
    for loss in [TweedieDeviance(power=3.0), TweedieDeviance(power=0.0)]:
        assert not loss.has_numerical_conjugate
        assert loss.dual_value(y, theta, u) is None
    for loss in [PoissonDeviance(), GammaDeviance()]:
        assert not loss.has_numerical_conjugate
        assert loss.has_conjugate


def _gap_checks(monkeypatch):
    """Record the numerical gaps the Newton solver makes (where it stops)."""
    from skgd.solvers import _newton

    gaps, made = [], _newton.numerical_gap_at

    def recorded(*args):
        gaps.append(made(*args))
        return gaps[-1]

    monkeypatch.setattr(_newton, "numerical_gap_at", recorded)
    return gaps


@pytest.mark.parametrize("solver", ["auto", "newton"])
@pytest.mark.parametrize("weights", ["ones", "zero"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("p", [1.2, 1.5, 1.8])
def test_tweedie_newton_stop_certified_by_numerical_gap(
    p, penalty, weights, solver, monkeypatch
):
    # (The proximal Newton decrement stopped these fits, an estimate that
    # bounds nothing: the safe gap now certifies the point they return.)
    gaps = _gap_checks(monkeypatch)
    X, y, s = _tweedie_data()
    w_pen = np.ones(N_FEATURES) if weights == "ones" else WEIGHTS
    est = _tweedie(penalty, p, weights=None if weights == "ones" else w_pen)
    est, caught = _fit(est.set_params(solver=solver), X, y, sample_weight=s)
    assert not caught, [str(w.message) for w in caught]
    rho = RHO[penalty]
    null = _null(X, y, s, p)
    best = _tweedie_reference(X, y, s, rho, p, w_pen)
    value = _tweedie_value(X, y, s, est.coef_, est.intercept_, rho, p, w_pen)
    assert 0.0 <= est.dual_gap_ <= est.tol * null * (1 + 1e-9)
    assert value - best <= est.dual_gap_ + 1e-13
    if weights == "ones":
        # (The safe gap at the result, made here. With weights 0 the fit runs
        # "gd", certified by the projected gap.)
        objective = LinearObjective(
            get_backend(X),
            X,
            y,
            TweedieDeviance(power=p),
            L1L2(ALPHA, rho),
            sample_weight=s,
        )
        w, b = est.coef_, float(est.intercept_)
        gap = numerical_gap_at(objective, w, objective.offset(w, b))
        assert gap <= est.tol * null * (1 + 1e-9)
        # (Newton's last measure is the gap it stopped on, made once.)
        assert len(gaps) == 1
        assert est.dual_gap_ == pytest.approx(gaps[-1], rel=1e-12)
        assert est.dual_gap_ == pytest.approx(gap, rel=1e-9, abs=1e-15)


def _refused(monkeypatch, times):
    """Make Newton's numerical gap infinite for its first ``times`` checks."""
    from skgd.solvers import _newton

    made, calls = _newton.numerical_gap_at, []

    def refused(*args):
        calls.append(1)
        return math.inf if len(calls) <= times else made(*args)

    monkeypatch.setattr(_newton, "numerical_gap_at", refused)
    return calls


def test_tweedie_newton_goes_on_where_the_gap_refuses_the_stop(monkeypatch):
    X, y, s = _tweedie_data()
    plain = _tweedie("l1", weights=None, solver="newton")
    plain.fit(X, y, sample_weight=s)
    calls = _refused(monkeypatch, 2)
    est = _tweedie("l1", weights=None, solver="newton")
    est, caught = _fit(est, X, y, sample_weight=s)
    assert not caught, [str(w.message) for w in caught]
    assert len(calls) == 3
    assert est.n_iter_ >= plain.n_iter_ + 2
    ones = np.ones(N_FEATURES)
    best = _tweedie_reference(X, y, s, 1.0, 1.5, ones)
    value = _tweedie_value(X, y, s, est.coef_, est.intercept_, 1.0, 1.5, ones)
    assert value - best <= est.dual_gap_ + 1e-13
    assert est.dual_gap_ <= est.tol * _null(X, y, s, 1.5)


def test_tweedie_newton_max_iter_too_small_warns_with_all_weights_positive(
    monkeypatch,
):
    X, y, s = _tweedie_data()
    est = _tweedie("l1", weights=None, solver="newton", max_iter=1)
    assert _fit(est, X, y, sample_weight=s)[1]
    # (Where the decrement says stop and the gap refuses it up to max_iter.)
    _refused(monkeypatch, 10**6)
    est = _tweedie("l1", weights=None, solver="newton", max_iter=8)
    caught = _fit(est, X, y, sample_weight=s)[1]
    assert caught
    assert "numerical conjugate" in str(caught[0].message)
    assert est.n_iter_ == 8


@pytest.mark.parametrize("loss", ["poisson", "gamma"])
def test_poisson_gamma_newton_does_not_make_the_numerical_gap(loss, monkeypatch):
    gaps = _gap_checks(monkeypatch)
    X, y, s = _tweedie_data()
    est = GDRegressor(loss=loss, penalty="l1", alpha=ALPHA, solver="newton")
    est, caught = _fit(est, X, y, sample_weight=s)
    assert not caught
    assert not gaps
