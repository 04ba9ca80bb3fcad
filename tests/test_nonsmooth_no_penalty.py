# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Non-smooth losses without a penalty: honest results, checked against the LP optimum.

Without a penalty ``"epsilon_insensitive"`` and ``"hinge"`` are linear programs:
``"auto"`` solves them by interior points and certifies the result by the gap of
the program's dual point. ``solver="gd"`` has no duality gap there: it minimises a
smooth approximation whose width shrinks to ``2 * tol * P_0``, and nothing bounds
the distance of the result to the optimum of the loss itself, so the fit is not
reported converged and a ConvergenceWarning says what to do (a small penalty).
The references are the exact optima of the linear programs, by
:func:`scipy.optimize.linprog` (HiGHS).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from skgd import GDClassifier, GDRegressor

EPSILON = 0.5
TOL = 1e-4


def _lp_optimum(X, y, loss):
    """Return ``(value, w, b)``: the minimum of the mean loss over ``w`` and ``b``.

    Variables ``[w, b, xi]`` with ``xi >= 0`` the per-sample losses; the hinge's
    ``y`` is in {-1, 1}.
    """
    n, p = X.shape
    Xb = sp.csr_matrix(np.hstack([X, np.ones((n, 1))]))
    slack = -sp.identity(n, format="csr")
    if loss == "hinge":
        # 1 - y (x.w + b) <= xi
        A = sp.hstack([-sp.diags(y) @ Xb, slack])
        b_ub = -np.ones(n)
    else:
        # |y - x.w - b| - epsilon <= xi, both signs.
        A = sp.vstack([sp.hstack([-Xb, slack]), sp.hstack([Xb, slack])])
        b_ub = np.r_[EPSILON - y, EPSILON + y]
    c = np.r_[np.zeros(p + 1), np.full(n, 1.0 / n)]
    bounds = [(None, None)] * (p + 1) + [(0, None)] * n
    res = linprog(c, A_ub=A.tocsr(), b_ub=b_ub, bounds=bounds, method="highs")
    assert res.status == 0
    return res.fun, res.x[:p], res.x[p]


def _mean_loss(X, y, w, b, loss):
    raw = X @ w + b
    if loss == "hinge":
        return np.mean(np.maximum(0.0, 1.0 - y * raw))
    return np.mean(np.maximum(0.0, np.abs(y - raw) - EPSILON))


def _problem(loss):
    if loss == "hinge":
        X, y = make_classification(
            n_samples=200, n_features=5, flip_y=0.1, random_state=0
        )
        return X * np.linspace(0.5, 4.0, 5), 2.0 * y - 1.0
    X, y = make_regression(n_samples=200, n_features=5, noise=10.0, random_state=0)
    return X, y / 10.0


def _estimator(loss, **params):
    if loss == "hinge":
        return GDClassifier(loss="hinge", tol=TOL, **params)
    return GDRegressor(loss="epsilon_insensitive", epsilon=EPSILON, tol=TOL, **params)


@pytest.mark.parametrize("loss", ["epsilon_insensitive", "hinge"])
@pytest.mark.parametrize("tol", [TOL, 1e-10])
def test_no_penalty_is_certified_by_interior_points(loss, tol):
    X, y = _problem(loss)
    best, _, _ = _lp_optimum(X, y, loss)
    p0, _, _ = _lp_optimum(X[:, :0], y, loss)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = _estimator(loss, penalty=None).set_params(tol=tol).fit(X, y)
    got = _mean_loss(X, y, np.ravel(est.coef_), np.ravel(est.intercept_)[0], loss)
    assert best * (1 - 1e-9) <= got <= best + est.dual_gap_ + 1e-12
    assert est.dual_gap_ <= tol * p0 * 1.5  # (the reference: P_0 or above)


@pytest.mark.parametrize("loss", ["epsilon_insensitive", "hinge"])
def test_no_penalty_is_not_reported_converged_by_gd(loss):
    X, y = _problem(loss)
    best, _, _ = _lp_optimum(X, y, loss)
    est = _estimator(loss, penalty=None, solver="gd")
    with pytest.warns(ConvergenceWarning, match="did not certify") as record:
        est.fit(X, y)
    message = str(record[0].message)
    assert "without a penalty" in message
    assert "penalty='l2', alpha=1e-6" in message
    got = _mean_loss(X, y, np.ravel(est.coef_), np.ravel(est.intercept_)[0], loss)
    # A feasible point of the LP: never below its optimum.
    assert got >= best * (1 - 1e-9)


@pytest.mark.parametrize("loss", ["epsilon_insensitive", "hinge"])
def test_small_penalty_is_certified_against_the_lp(loss):
    """With a small penalty the gap certifies the fit: within the LP's optimum.

    The penalized optimum is at most ``best + alpha / 2 ||w_lp||^2``, and the fit is
    within ``tol * P_0`` of it (P_0: the constant model's optimum, the LP without
    features, at most the solver's reference).
    """
    X, y = _problem(loss)
    best, w_lp, _ = _lp_optimum(X, y, loss)
    p0, _, _ = _lp_optimum(X[:, :0], y, loss)
    alpha = 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = _estimator(loss, penalty="l2", alpha=alpha, max_iter=20_000).fit(X, y)
    w, b = np.ravel(est.coef_), np.ravel(est.intercept_)[0]
    got = _mean_loss(X, y, w, b, loss)
    assert got >= best * (1 - 1e-9)
    assert got <= best + 0.5 * alpha * (w_lp @ w_lp) + TOL * p0


def test_no_penalty_tol_none_runs_silently():
    """``tol=None``: no warning, and the smoothing width stops at ``1e-12 P_0``.

    (It used to shrink to zero and overflow in the smoothed loss's gradient.)
    """
    X, y = _problem("epsilon_insensitive")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = GDRegressor(
            loss="epsilon_insensitive", penalty=None, tol=None, solver="gd"
        )
        est.set_params(max_iter=50).fit(X, y)
    assert 0 < est.n_iter_ <= 50
    assert np.all(np.isfinite(est.coef_))
