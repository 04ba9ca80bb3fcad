# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Newton steps on the smoothings of the hinge and epsilon-insensitive losses.

With an L2 penalty: the optimum against liblinear's dual coordinate descent, and
the certificate (the duality gap of the non-smooth problem) against it. With an
L1 part: the optimum against the linear program of the L1 problems (solved by
HiGHS), and the subgradient conditions of the elastic net checked on their own.
"""

import warnings
from functools import partial

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC, LinearSVR

from skgd import GDClassifier, GDRegressor
from skgd._backend import get_backend
from skgd._objective import LinearObjective
from skgd.losses import EpsilonInsensitive, Hinge
from skgd.penalties import L1, L1L2, L2
from skgd.solvers._routing import full_batch_solver
from skgd.solvers._smoothed_newton import solve_smoothed_newton


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def _primal(loss, X, y, coef, intercept, alpha):
    raw = X @ coef + intercept
    return float(loss.pointwise(y, raw).mean() + 0.5 * alpha * coef @ coef)


def test_hinge_l2_equals_linear_svc(cancer):
    X, y = cancer
    alpha = 1e-2
    svc = LinearSVC(
        loss="hinge",
        dual=True,
        C=1 / (alpha * len(y)),
        fit_intercept=False,
        tol=1e-12,
        max_iter=1_000_000,
        random_state=0,
    ).fit(X, y)
    ours = GDClassifier(loss="hinge", alpha=alpha, fit_intercept=False, tol=1e-10)
    ours.fit(X, y)
    # The gap falls tenfold per stage of about 20 Newton steps.
    assert ours.n_iter_ < 300
    # Strong convexity: ||w - w*||^2 <= 2 gap / alpha.
    np.testing.assert_allclose(ours.coef_, svc.coef_, atol=1e-5)


@pytest.mark.parametrize("alpha", [1e-4, 1e-3])
def test_hinge_l2_default_tol_is_certified(cancer, alpha):
    # The reported convergence bounds the suboptimality of the true problem:
    # checked against the optimum solved far tighter (as tight as liblinear's,
    # which does not meet tol=1e-12 in a million iterations at these C).
    X, y = cancer
    signs = np.where(y > 0, 1.0, -1.0)
    svc = LinearSVC(
        loss="hinge",
        dual=True,
        C=1 / (alpha * len(y)),
        fit_intercept=False,
        tol=1e-12,
        max_iter=1_000_000,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        svc.fit(X, y)
    fit = partial(GDClassifier, loss="hinge", alpha=alpha, fit_intercept=False)
    tight, ours = fit(tol=1e-10).fit(X, y), fit().fit(X, y)
    best = _primal(Hinge(), X, signs, tight.coef_[0], 0.0, alpha)
    assert best <= _primal(Hinge(), X, signs, svc.coef_[0], 0.0, alpha) + 1e-10
    # (The objective at zero, the scale of tol, is 1.)
    excess = _primal(Hinge(), X, signs, ours.coef_[0], 0.0, alpha) - best
    assert -1e-10 <= excess <= 1e-4


def test_epsilon_insensitive_l2_equals_linear_svr(diabetes):
    X, y = diabetes
    alpha, epsilon = 1e-2, 0.1
    svr = LinearSVR(
        loss="epsilon_insensitive",
        epsilon=epsilon,
        dual=True,
        C=1 / (alpha * len(y)),
        fit_intercept=False,
        tol=1e-12,
        max_iter=1_000_000,
        random_state=0,
    ).fit(X, y)
    ours = GDRegressor(
        loss="epsilon_insensitive",
        epsilon=epsilon,
        alpha=alpha,
        fit_intercept=False,
        tol=1e-10,
    ).fit(X, y)
    np.testing.assert_allclose(ours.coef_, svr.coef_, atol=1e-5)


def test_stages_stop_on_the_true_gap(cancer):
    X, y = cancer
    objective = LinearObjective(
        get_backend(X),
        X,
        np.where(y > 0, 1.0, -1.0),
        Hinge(),
        L2(1e-4),
        fit_intercept=True,
    )
    res = solve_smoothed_newton(
        objective,
        np.zeros(X.shape[1]),
        objective.initial_offset(),
        max_iter=1000,
        tol=1e-6,
    )
    assert res.converged
    assert res.extra["measure"] <= 1e-6
    raw = objective.raw(res.coef, res.extra["offset"])
    assert res.objective_curve[-1] == pytest.approx(objective.value(res.coef, raw))


@pytest.mark.parametrize(
    ("loss", "penalty", "solver", "expected"),
    [
        # Sums of pinball losses with an elastic-net-family penalty or none
        # are linear (or, with an L2 part, quadratic) programs.
        (Hinge(), L2(1e-4), "auto", "solve_interior_point"),
        (Hinge(), L2(1e-4), "newton", "solve_interior_point"),
        (Hinge(), L2(1e-4), "gd", "solve_gd"),
        (Hinge(), L1(1e-4), "auto", "solve_interior_point"),
        (Hinge(), L1L2(1e-4), "auto", "solve_interior_point"),
        (EpsilonInsensitive(), L1(1e-4), "newton", "solve_interior_point"),
        (Hinge(), L1(0.0), "auto", "solve_interior_point"),
        (EpsilonInsensitive(), L2(1e-4), "auto", "solve_interior_point"),
    ],
)
def test_routing(cancer, loss, penalty, solver, expected):
    X, y = cancer
    objective = LinearObjective(
        get_backend(X),
        X,
        np.where(y > 0, 1.0, -1.0),
        loss,
        penalty,
        fit_intercept=True,
    )
    assert full_batch_solver(objective, solver)[1].__name__ == expected


def test_dask_takes_newton_steps_on_the_smoothings(cancer):
    # (With a penalty strength on every feature: "gd" certifies these on Dask,
    # and the interior points are kept for the problems without a gap.)
    da = pytest.importorskip("dask.array")
    X, y = cancer
    objective = LinearObjective(
        get_backend(da.from_array(X, chunks=100)),
        da.from_array(X, chunks=100),
        da.from_array(np.where(y > 0, 1.0, -1.0), chunks=100),
        Hinge(),
        L1(1e-4),
        fit_intercept=True,
    )
    solve = full_batch_solver(objective, "newton")[1]
    assert solve.__name__ == "solve_smoothed_newton"


def _l1_linear_program(kind, X, y, u, l1):
    """Return the optimum of ``sum u_i loss_i + l1 |w|_1`` (with an intercept).

    Hinge and epsilon-insensitive with an L1 penalty are linear programs in
    ``(w+, w-, b, xi)``: ``xi_i`` bounds the loss of sample ``i`` from above.
    """
    n, p = X.shape
    cost = np.concatenate([np.full(2 * p, l1), [0.0], u])
    slack = -np.eye(n)
    if kind == "hinge":
        # xi_i >= 1 - y_i (x_i.w + b)
        yx = y[:, None] * X
        rows = np.hstack([-yx, yx, -y[:, None], slack])
        rhs = -np.ones(n)
    else:
        # xi_i >= |y_i - x_i.w - b| - 0.1, both signs
        one = np.ones((n, 1))
        rows = np.vstack(
            [np.hstack([X, -X, one, slack]), np.hstack([-X, X, -one, slack])]
        )
        rhs = np.concatenate([y + 0.1, 0.1 - y])
    bounds = [(0, None)] * (2 * p) + [(None, None)] + [(0, None)] * n
    res = linprog(cost, A_ub=rows, b_ub=rhs, bounds=bounds, method="highs")
    assert res.status == 0
    return res.fun


def _fit_value(kind, X, y, u, est):
    """Return the true objective of ``est`` (weights ``u`` summing to one)."""
    coef = np.ravel(est.coef_).astype(np.float64)
    raw = X @ coef + float(np.ravel(est.intercept_)[0])
    loss = Hinge() if kind == "hinge" else EpsilonInsensitive()
    return float(u @ loss.pointwise(y, raw)), coef


def _l1_case(kind, cancer, diabetes):
    if kind == "hinge":
        X, y = cancer
        return X, np.where(y > 0, 1.0, -1.0), GDClassifier, 1e-3
    X, y = diabetes
    return X, y, GDRegressor, 1e-2


@pytest.mark.parametrize("kind", ["hinge", "epsilon_insensitive"])
@pytest.mark.parametrize("form", ["dense", "sparse", "float32", "weights"])
def test_l1_equals_the_linear_program(cancer, diabetes, kind, form):
    X, y, Est, alpha = _l1_case(kind, cancer, diabetes)
    weights = None
    if form == "weights":
        weights = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    u = np.full(len(y), 1 / len(y)) if weights is None else weights / weights.sum()
    best = _l1_linear_program(kind, X, y, u, alpha)
    data = {"sparse": sp.csr_matrix(X), "float32": X.astype(np.float32)}.get(form, X)
    # (float32 rounds the smoothed problems' gaps near 1e-5: the default tol.
    # With these weights the hinge's gap stalls near 1e-8 for thousands of steps.)
    tol = {"float32": 1e-4, "weights": 1e-6}.get(form, 1e-8)
    # (At tol=1e-8 the narrow stages take up to about 1,000 steps.)
    est = Est(
        loss=kind, penalty="l1", alpha=alpha, solver="newton", tol=tol, max_iter=2000
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(data, y, sample_weight=weights)
    loss, coef = _fit_value(kind, X, y, u, est)
    value = loss + alpha * np.abs(coef).sum()
    # (The objective at zero, the scale of tol, is about 1 for both.)
    assert -1e-9 <= value - best <= tol


@pytest.mark.parametrize("kind", ["hinge", "epsilon_insensitive"])
def test_l1_gap_bounds_the_suboptimality(cancer, diabetes, kind):
    X, y, _, alpha = _l1_case(kind, cancer, diabetes)
    loss = Hinge() if kind == "hinge" else EpsilonInsensitive()
    objective = LinearObjective(
        get_backend(X), X, y, loss, L1(alpha), fit_intercept=True
    )
    start = (np.zeros(X.shape[1]), objective.initial_offset())
    res = solve_smoothed_newton(objective, *start, max_iter=1000, tol=1e-3)
    assert res.converged
    value = objective.value(res.coef, objective.raw(res.coef, res.extra["offset"]))
    best = _l1_linear_program(kind, X, y, np.full(len(y), 1 / len(y)), alpha)
    gap = res.extra["measure"] * objective.reference_value()
    assert 0.0 <= value - best <= gap <= 1e-3 * objective.reference_value()


@pytest.mark.slow  # (minutes on shared cores: tol=1e-10 with an L1 part)
def test_hinge_elastic_net_meets_its_subgradient_conditions(cancer):
    # The optimality conditions of the non-smooth problem, checked in float64
    # on their own: per-sample subgradients g_i of the hinge (-y_i u_i where
    # the margin is below 1, 0 above it, any value between at the kink) with
    # X.T g + l1 sign(w) + l2 w = 0 on the support, |X_j.g| <= l1 off it, and
    # sum(g) = 0 (the intercept). Which samples sit at the kink is read from
    # the fit (to 1e-6); the g of those is found by a linear program that
    # minimises the largest violation.
    X, y = cancer
    signs = np.where(y > 0, 1.0, -1.0)
    alpha, ratio = 1e-2, 0.5
    l1, l2 = alpha * ratio, alpha * (1 - ratio)
    est = GDClassifier(
        loss="hinge", penalty="elasticnet", alpha=alpha, l1_ratio=ratio, tol=1e-10
    ).fit(X, y)
    coef, b = est.coef_[0], est.intercept_[0]
    u = np.full(len(y), 1 / len(y))
    margin = signs * (X @ coef + b)
    kink = np.abs(margin - 1) <= 1e-6
    fixed = np.where(margin < 1, -signs * u, 0.0) * ~kink
    support = np.abs(coef) > 0
    target = -(X.T @ fixed)
    target[support] -= l1 * np.sign(coef[support]) + l2 * coef[support]
    A = X[kink].T  # the unknown g of the kink samples
    k = A.shape[1]
    # Variables (g_kink, t): minimise t.
    cost = np.r_[np.zeros(k), 1.0]
    rows, rhs = [], []
    for j in range(X.shape[1]):
        for sign in (1.0, -1.0):
            rows.append(np.r_[sign * A[j], -1.0])
            if support[j]:
                rhs.append(sign * target[j])  # |A_j g - target_j| <= t
            else:
                rhs.append(l1 + sign * target[j])  # |A_j g - target_j| <= l1 + t
    intercept = np.r_[np.ones(k), 0.0]
    bounds = [
        (min(0.0, -s * ui), max(0.0, -s * ui))
        for s, ui in zip(signs[kink], u[kink], strict=True)
    ]
    res = linprog(
        cost,
        A_ub=np.array(rows),
        b_ub=np.array(rhs),
        A_eq=intercept[None, :],
        b_eq=[-fixed.sum()],
        bounds=bounds + [(0, None)],
        method="highs",
    )
    assert res.status == 0
    assert res.fun <= 1e-8
    assert support.sum() < X.shape[1]  # the L1 part is active
