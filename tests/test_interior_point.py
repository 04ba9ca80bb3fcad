# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The interior-point solver of quantile regression with L1 or no penalty.

Objectives are compared with QuantileRegressor (HiGHS) and
:func:`scipy.optimize.linprog` (linear programs: coefficients may be non-unique,
objectives are not), the reported gap is checked against the true suboptimality,
and the optimality conditions of the program are checked in float64 by
:func:`test_quantile._kkt_residual`.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import QuantileRegressor
from test_quantile import _kkt_residual, _objective, _problem

from skgd import GDRegressor
from skgd._backend import get_backend
from skgd._objective import LinearObjective
from skgd.losses import Pinball
from skgd.penalties import L1, L2, NoPenalty
from skgd.solvers._interior_point import solve_interior_point
from skgd.solvers._routing import full_batch_solver, interior_point_applies

QUANTILES = [0.1, 0.5, 0.9]
TOL = 1e-10


def _fit(q, alpha, **params):
    penalty = "l1" if alpha else None
    params = {"tol": TOL, "penalty": penalty, "alpha": alpha, **params}
    return GDRegressor(loss="quantile", quantile=q, **params)


def _reference(X, y, q, alpha, sample_weight=None):
    """Return HiGHS's objective, from QuantileRegressor's coefficients."""
    ref = QuantileRegressor(quantile=q, alpha=alpha, solver="highs")
    ref.fit(X, y, sample_weight=sample_weight)
    return _objective(X, y, ref.coef_, ref.intercept_, q, alpha, 1.0, sample_weight)


def _check(est, X, y, q, alpha, best, sample_weight=None, rel=1e-8):
    """Assert the fit meets ``best`` to ``rel`` and its gap bounds the difference."""
    got = _objective(X, y, est.coef_, est.intercept_, q, alpha, 1.0, sample_weight)
    assert abs(got - best) <= rel * best
    assert got - best <= est.dual_gap_ + 1e-12 * best
    return got


def _diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X, y


def _badly_scaled(n=400, p=8, seed=1):
    """Columns scaled from 1e-3 to 1e3, two of them nearly collinear."""
    X, y = _problem(n=n, p=p, seed=seed)
    X[:, 1] = X[:, 0] + 1e-6 * X[:, 1]
    return X * np.logspace(-3, 3, p), y


@pytest.mark.parametrize("alpha", [0.0, 0.02])
@pytest.mark.parametrize("q", QUANTILES)
@pytest.mark.parametrize("data", [_problem, _diabetes, _badly_scaled])
def test_equals_quantile_regressor(data, q, alpha):
    X, y = data()
    if data is _diabetes:
        alpha *= 10.0  # y is in the hundreds
    best = _reference(X, y, q, alpha)
    est = _fit(q, alpha)
    if data is _badly_scaled and not alpha:
        # Without a penalty the gap counts the rounding of X_c.T theta' = 0
        # (theta' the corrected dual point) times the coefficients, large on
        # these nearly collinear columns (1e-6 apart): it certifies 1e-8 or
        # so, not 1e-10, and the result (the step of the smallest gap) meets
        # the objective to 1e-7.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        assert est.dual_gap_ <= 1e-8 * best
        _check(est, X, y, q, alpha, best, rel=1e-7)
        return
    est.fit(X, y)
    assert est.n_iter_ < 60
    _check(est, X, y, q, alpha, best)
    res = _kkt_residual(X, y, est.coef_, est.intercept_, q, alpha, 1.0, zero=1e-6)
    assert res < 1e-6


def _near_collinear(n=1_000, p=8, seed=5):
    """Columns correlated at 0.999, scaled from 1e-3 to 1e3."""
    rng = np.random.default_rng(seed)
    common = rng.normal(size=(n, 1))
    X = np.sqrt(0.999) * common + np.sqrt(0.001) * rng.normal(size=(n, p))
    y = X @ rng.normal(size=p) + rng.standard_t(3, size=n)
    return X * np.logspace(-3, 3, p), y


@pytest.mark.parametrize("q", QUANTILES)
@pytest.mark.parametrize("data", [_near_collinear, _badly_scaled])
def test_no_penalty_gap_is_strict_on_collinear_columns(data, q):
    """The corrected dual point certifies at 1e-8 and bounds the suboptimality.

    Without a penalty the dual point must meet ``X_c.T theta = 0`` and
    ``sum(theta) = 0``, which the program keeps only to the rounding of its
    steps (1e-9 here, and a gap that stalled near 1e-6 on columns 1e-6 apart):
    the certificate corrects it on the samples inside the box.
    """
    X, y = data()
    best = _lp_weighted(X, y, q, np.zeros(X.shape[1]))
    ref = _objective_of(X, y, NoPenalty(), q=q).reference_value()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = _fit(q, 0.0, tol=1e-8).fit(X, y)
    got = _objective(X, y, est.coef_, est.intercept_, q, 0.0)
    assert best - 1e-12 * best <= got <= best + est.dual_gap_
    assert est.dual_gap_ <= 1e-8 * ref


@pytest.mark.parametrize("q", QUANTILES)
def test_sample_weights_and_zero_weights(q):
    X, y = _problem(n=120)
    sw = np.random.default_rng(0).integers(0, 4, size=y.shape[0]).astype(float)
    for alpha in (0.0, 0.01):
        best = _reference(X, y, q, alpha, sample_weight=sw)
        est = _fit(q, alpha).fit(X, y, sample_weight=sw)
        _check(est, X, y, q, alpha, best, sample_weight=sw)
        res = _kkt_residual(X, y, est.coef_, est.intercept_, q, alpha, 1.0, sw, 1e-6)
        assert res < 1e-6


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_equals_dense(fit_intercept):
    X, y = _problem(n=300)
    X[np.abs(X) < 1.0] = 0.0
    for q, alpha in [(0.1, 0.0), (0.9, 0.02)]:
        params = {"fit_intercept": fit_intercept}
        dense = _fit(q, alpha, **params).fit(X, y)
        sparse = _fit(q, alpha, **params).fit(sp.csr_matrix(X), y)
        a = _objective(X, y, dense.coef_, dense.intercept_, q, alpha)
        b = _objective(X, y, sparse.coef_, sparse.intercept_, q, alpha)
        assert b == pytest.approx(a, rel=1e-9)
        if not fit_intercept:
            assert dense.intercept_ == sparse.intercept_ == 0.0
            ref = QuantileRegressor(quantile=q, alpha=alpha, fit_intercept=False)
            ref.fit(X, y)
            best = _objective(X, y, ref.coef_, 0.0, q, alpha)
            assert a == pytest.approx(best, rel=1e-8)


def test_float32():
    X, y = _badly_scaled()
    q, alpha = 0.9, 0.02
    best = _reference(X, y, q, alpha)
    est = _fit(q, alpha, tol=1e-6).fit(X.astype(np.float32), y.astype(np.float32))
    assert est.coef_.dtype == np.float32
    got = _objective(X, y, est.coef_.astype(float), float(est.intercept_), q, alpha)
    # The float32 coefficients round the float64 solution (to 1e-7 relative).
    assert abs(got - best) <= 1e-5 * best


def _lp_weighted(X, y, q, strengths):
    """Return the optimum with per-feature L1 strengths by linprog (HiGHS)."""
    n, p = X.shape
    u = np.full(n, 1.0 / n)
    c = np.r_[strengths, strengths, 0.0, 0.0, q * u, (1 - q) * u]
    one = np.ones((n, 1))
    A = np.hstack([X, -X, one, -one, np.eye(n), -np.eye(n)])
    res = linprog(c, A_eq=A, b_eq=y, bounds=(0, None), method="highs")
    assert res.status == 0
    return res.fun


@pytest.mark.parametrize("q", [0.2, 0.8])
def test_penalty_weights(q):
    X, y = _problem()
    alpha = 0.05
    weights = np.array([0.0, 1.0, 2.0, 0.5, 0.0, 3.0])
    best = _lp_weighted(X, y, q, alpha * weights)
    est = _fit(q, alpha, penalty_weights=weights).fit(X, y)
    r = y - X @ est.coef_ - est.intercept_
    got = np.mean(np.maximum(q * r, (q - 1) * r)) + alpha * weights @ np.abs(est.coef_)
    assert got == pytest.approx(best, rel=1e-8)
    assert got - best <= est.dual_gap_ + 1e-12 * best


def _objective_of(X, y, penalty, q=0.5, **kw):
    backend = get_backend(X)
    return LinearObjective(backend, X, y, Pinball(quantile=q), penalty, **kw)


def test_routing():
    X, y = _problem()
    obj = _objective_of(X, y, L1(alpha=0.1))
    assert interior_point_applies(obj)
    assert interior_point_applies(_objective_of(X, y, NoPenalty()))
    assert interior_point_applies(_objective_of(sp.csr_matrix(X), y, L1(alpha=0.1)))
    assert full_batch_solver(obj, "auto")[0] == "interior-point"
    assert full_batch_solver(obj, "newton")[0] == "interior-point"
    assert full_batch_solver(obj, "gd")[0] == "gd"
    # An L2 part makes a quadratic program: a diagonal in each step's system.
    assert interior_point_applies(_objective_of(X, y, L2(alpha=0.1)))
    # The constraint w >= 0: an exact penalty of the program.
    assert interior_point_applies(_objective_of(X, y, L1(alpha=0.1, positive=True)))


def test_dask_takes_the_route_without_a_gap_up_to_newtons_width():
    """On Dask: where "gd" has no duality gap, up to 256 columns.

    Each step's Gram matrix comes to the client; with a penalty strength on
    every feature "gd" certifies the fit with one compute per iteration.
    """
    da = pytest.importorskip("dask.array")
    X, y = _problem()
    yd = da.from_array(y, chunks=50)
    assert not interior_point_applies(
        _objective_of(da.from_array(X, chunks=50), yd, L1(0.1))
    )
    obj = _objective_of(da.from_array(X, chunks=50), yd, NoPenalty())
    assert interior_point_applies(obj)
    assert full_batch_solver(obj, "auto")[0] == "interior-point"
    wide = np.random.default_rng(0).standard_normal((X.shape[0], 257))
    obj = _objective_of(da.from_array(wide, chunks=50), yd, NoPenalty())
    assert not interior_point_applies(obj)
    assert interior_point_applies(_objective_of(wide, y, NoPenalty()))


def test_gap_bounds_suboptimality_along_the_run():
    """At every ``tol`` the reported gap bounds the distance to HiGHS's optimum."""
    X, y = _badly_scaled(n=1_000)
    q, alpha = 0.9, 0.01
    best = _reference(X, y, q, alpha)
    ref = _objective_of(X, y, L1(alpha=alpha), q=q).reference_value()
    for tol in (1e-2, 1e-4, 1e-6, 1e-9):
        est = _fit(q, alpha, tol=tol).fit(X, y)
        got = _objective(X, y, est.coef_, est.intercept_, q, alpha)
        assert best * (1 - 1e-9) <= got <= best + est.dual_gap_ * (1 + 1e-9)
        assert est.dual_gap_ <= tol * ref


def test_max_iter_and_solver_result():
    X, y = _problem()
    with pytest.warns(ConvergenceWarning, match="interior-point"):
        _fit(0.5, 0.02, max_iter=2).fit(X, y)
    obj = _objective_of(X, y, L1(alpha=0.02), q=0.3)
    seen = []
    res = solve_interior_point(
        obj,
        np.zeros(X.shape[1]),
        0.0,
        max_iter=100,
        tol=1e-8,
        callback=lambda it, w, value: seen.append(it),
    )
    assert res.converged
    assert res.extra["measure"] <= 1e-8
    assert (
        seen
        == list(range(1, res.n_iter + 1))
        == list(range(1, len(res.objective_curve) + 1))
    )
    assert res.intercept == pytest.approx(obj.intercept(res.coef, res.extra["offset"]))


@pytest.mark.parametrize("alpha", [0.0, 0.02])
def test_constant_columns_stay_zero_and_wide_data(alpha):
    X, y = _problem(n=60)
    X[:, 2], X[:, 3] = 0.0, 5.0
    est = _fit(0.3, alpha).fit(X, y)
    assert est.coef_[2] == est.coef_[3] == 0.0
    _check(est, X, y, 0.3, alpha, _reference(X, y, 0.3, alpha))
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 40)), rng.normal(size=20)
    est = _fit(0.7, alpha).fit(X, y)
    best = _reference(X, y, 0.7, alpha)
    got = _objective(X, y, est.coef_, est.intercept_, 0.7, alpha)
    assert abs(got - best) <= 1e-8 * max(best, 1.0)


def _pinball_sum_lp(kind, X, y, u, l1, positive=False):
    """Return the optimum of ``sum u_i loss_i + sum_j l1_j |w_j|`` by HiGHS.

    Variables ``(w+, w-, b, xi)``; ``xi_i`` bounds the loss of sample ``i``
    (the epsilon-insensitive loss's epsilon is 0.3, the quantile 0.3). With
    ``positive`` the bounds ``(0, None)`` hold ``w`` (``w-`` is 0).
    """
    n, p = X.shape
    cost = np.concatenate([l1, l1, [0.0], u])
    slack = -np.eye(n)
    one = np.ones((n, 1))
    if kind == "hinge":
        yx = y[:, None] * X
        rows, rhs = np.hstack([-yx, yx, -y[:, None], slack]), -np.ones(n)
    elif kind == "quantile":
        # xi >= 0.3 (y - f) and xi >= -0.7 (y - f).
        rows = np.vstack(
            [
                np.hstack([-0.3 * X, 0.3 * X, -0.3 * one, slack]),
                np.hstack([0.7 * X, -0.7 * X, 0.7 * one, slack]),
            ]
        )
        rhs = np.concatenate([-0.3 * y, 0.7 * y])
    else:
        rows = np.vstack(
            [np.hstack([X, -X, one, slack]), np.hstack([-X, X, -one, slack])]
        )
        rhs = np.concatenate([y + 0.3, 0.3 - y])
    minus = (0, 0) if positive else (0, None)
    bounds = [(0, None)] * p + [minus] * p + [(None, None)] + [(0, None)] * n
    res = linprog(cost, A_ub=rows, b_ub=rhs, bounds=bounds, method="highs")
    assert res.status == 0
    return res.fun


@pytest.mark.parametrize("kind", ["hinge", "epsilon_insensitive"])
@pytest.mark.parametrize("form", ["dense", "sparse"])
def test_hinge_and_epsilon_insensitive_equal_the_linear_program(kind, form):
    """Sums of pinball losses: an unpenalized feature, weights, a row of weight 0.

    Without a duality gap (a feature of weight 0) the certificate is the dual
    point corrected on the samples inside the box, for the hinge's and the
    epsilon-insensitive loss's dual boxes as for quantile regression.
    """
    from skgd.losses import EpsilonInsensitive, Hinge

    X, y = _problem(n=150, p=6, seed=3)
    if kind == "hinge":
        y = np.where(y > np.median(y), 1.0, -1.0)
    weights = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    weights[4] = 0.0
    c = np.array([1.0, 0.0, 2.0, 1.0, 0.5, 1.0])
    alpha = 0.01
    loss = Hinge() if kind == "hinge" else EpsilonInsensitive(epsilon=0.3)
    data = sp.csr_matrix(X) if form == "sparse" else X
    obj = LinearObjective(
        get_backend(data),
        data,
        y,
        loss,
        L1(alpha=alpha, weights=c),
        sample_weight=weights,
        fit_intercept=True,
    )
    res = solve_interior_point(obj, None, None, max_iter=100, tol=1e-10)
    assert res.converged
    u = weights / weights.sum()
    best = _pinball_sum_lp(kind, X, y, u, alpha * c)
    raw = X @ res.coef + res.intercept
    got = float(u @ loss.pointwise(y, raw) + alpha * c @ np.abs(res.coef))
    gap = res.extra["measure"] * obj.reference_value()
    assert -1e-9 <= got - best <= gap + 1e-12


@pytest.mark.parametrize("kind", ["quantile", "hinge", "epsilon_insensitive"])
@pytest.mark.parametrize("form", ["dense", "sparse"])
@pytest.mark.parametrize("alpha", [0.0, 0.01])
def test_positive_equals_the_linear_program(kind, form, alpha):
    """``positive=True`` on the interior points: the objective of HiGHS's LP.

    The constraint is an exact penalty of the program (its ``-e_j`` rows), and
    the gap's dual constraint is one-sided, ``X_j.theta <= alpha c_j``.
    """
    from skgd import GDClassifier
    from skgd.losses import EpsilonInsensitive, Hinge

    X, y = _problem(n=150, p=6, seed=3)
    weights = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    weights[4] = 0.0
    u = weights / weights.sum()
    params = {"penalty": "l1" if alpha else None, "alpha": alpha, "tol": 1e-10}
    params["positive"] = True
    if kind == "hinge":
        y = np.where(y > np.median(y), 1.0, -1.0)
        est, loss = GDClassifier(loss="hinge", **params), Hinge()
    elif kind == "quantile":
        est = GDRegressor(loss="quantile", quantile=0.3, **params)
        loss = Pinball(quantile=0.3)
    else:
        est = GDRegressor(loss="epsilon_insensitive", epsilon=0.3, **params)
        loss = EpsilonInsensitive(epsilon=0.3)
    penalty = L1(alpha=alpha, positive=True) if alpha else NoPenalty(positive=True)
    obj = LinearObjective(get_backend(X), X, y, loss, penalty)
    assert full_batch_solver(obj, "auto")[0] == "interior-point"
    best = _pinball_sum_lp(kind, X, y, u, np.full(6, alpha), positive=True)
    data = sp.csr_matrix(X) if form == "sparse" else X
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(data, y, sample_weight=weights)
    w, b = np.ravel(est.coef_), float(np.ravel(est.intercept_)[0])
    assert w.min() >= 0.0
    assert (w == 0.0).any()  # (the constraint binds)
    got = float(u @ loss.pointwise(y, X @ w + b) + alpha * np.sum(w))
    assert abs(got - best) <= 1e-8 * best
    assert got - best <= est.dual_gap_ + 1e-12 * best
