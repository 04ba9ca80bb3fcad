# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""L1 and elastic-net squared-loss problems that a diagonal metric finds hard.

Correlated columns (AR(1) with rho 0.9 and 0.99), columns scaled from 1e-3 to 1e3,
and wide designs (fewer rows than columns), dense and sparse, with and without
weights: the working sets' coordinate descent on the set's Gram matrix must reach
sklearn's optimum in few iterations, its claimed convergence must hold for a
duality gap computed here independently, and a wide problem's extra memory must
stay below the size of X.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, enet_path

from skgd import GDRegressor, GDRegressorCV, gd_path


def _ar1(seed, n_samples, n_features, rho, *, scaled=False):
    """AR(1)-correlated columns, a sparse truth; optionally columns scaled 1e-3..1e3."""
    rng = np.random.default_rng(seed)
    X = np.empty((n_samples, n_features))
    X[:, 0] = rng.standard_normal(n_samples)
    for j in range(1, n_features):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * rng.standard_normal(
            n_samples
        )
    w = np.zeros(n_features)
    idx = rng.choice(n_features, 10, replace=False)
    w[idx] = rng.normal(scale=2.0, size=10)
    y = X @ w + 1.0 + rng.standard_normal(n_samples)
    if scaled:
        X = X * 10.0 ** rng.uniform(-3, 3, n_features)
    return X, y


def _alpha(X, y, fraction, sample_weight=None):
    """``fraction`` of the smallest alpha that zeroes every coefficient."""
    u = np.ones(len(y)) if sample_weight is None else sample_weight
    u = u / u.sum()
    xm, ym = u @ X, u @ y
    return fraction * np.max(np.abs((X - xm).T @ (u * (y - ym))))


def _certified_gap(X, y, coef, intercept, alpha, l1_ratio, sample_weight=None):
    """Return the relative duality gap at ``(coef, intercept)``, in float64.

    Written from the definitions: the primal objective of GDRegressor, and the
    dual point made of the centered, weighted residual (scaled into the dual
    feasible set for the lasso), against the objective at zero coefficients.
    """
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    coef = np.asarray(coef, dtype=np.float64)
    u = np.ones(len(y)) if sample_weight is None else sample_weight
    u = u / u.sum()
    l1, l2 = alpha * l1_ratio, alpha * (1.0 - l1_ratio)
    yc = y - u @ y
    r = y - X @ coef - intercept
    theta = r - u @ r  # feasible for the intercept: sum(u theta) = 0
    primal = 0.5 * u @ (r * r) + l1 * np.abs(coef).sum() + 0.5 * l2 * coef @ coef
    v = (X - u @ X).T @ (u * theta)
    if l2 > 0:
        conj = np.sum(np.maximum(np.abs(v) - l1, 0.0) ** 2) / (2.0 * l2)
        dual = u @ (yc * theta) - 0.5 * u @ (theta * theta) - conj
    else:
        k = min(1.0, l1 / np.max(np.abs(v)))
        dual = k * (u @ (yc * theta)) - 0.5 * k * k * (u @ (theta * theta))
    return (primal - dual) / (0.5 * u @ (yc * yc))


def _objective(X, y, coef, intercept, alpha, l1_ratio, sample_weight=None):
    X = X.toarray() if sp.issparse(X) else X
    u = np.ones(len(y)) if sample_weight is None else sample_weight
    u = u / u.sum()
    r = y - X @ coef - intercept
    pen = alpha * (l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * coef @ coef)
    return 0.5 * u @ (r * r) + pen


CASES = {
    # name: (n_samples, n_features, rho, scaled, fraction of alpha_max)
    "rho0.9": (400, 300, 0.9, False, 0.02),
    "rho0.99": (400, 300, 0.99, False, 0.02),
    "scaled": (300, 200, 0.5, True, 0.05),
    "wide": (60, 1000, 0.9, False, 0.05),
    "gram": (500, 150, 0.99, False, 0.01),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("kind", ["dense", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
def test_hard_designs_reach_sklearn_optimum(case, l1_ratio, kind, weighted):
    n, p, rho, scaled, fraction = CASES[case]
    X, y = _ar1(0, n, p, rho, scaled=scaled)
    s = np.random.default_rng(1).uniform(0.2, 2, n) if weighted else None
    alpha = _alpha(X, y, fraction, s) / l1_ratio
    ref_cls = Lasso if l1_ratio == 1 else ElasticNet
    kw = {} if l1_ratio == 1 else {"l1_ratio": l1_ratio}
    ref = ref_cls(alpha=alpha, tol=1e-12, max_iter=10**6, **kw).fit(
        X, y, sample_weight=s
    )
    Xk = X if kind == "dense" else sp.csc_matrix(X)
    # (Sparse columns are not centered, hence have no Gram subproblems: the
    # proximal-gradient iteration on the set needs more iterations there.)
    ours = GDRegressor(
        penalty="elasticnet", alpha=alpha, l1_ratio=l1_ratio, tol=1e-10, max_iter=10**5
    ).fit(Xk, y, sample_weight=s)
    gap = _certified_gap(X, y, ours.coef_, ours.intercept_, alpha, l1_ratio, s)
    assert gap <= 1.5e-10
    # The same optimum (objective values; on rho 0.99 the coefficients are not
    # determined to much better than the square root of the gap).
    f_ours = _objective(X, y, ours.coef_, ours.intercept_, alpha, l1_ratio, s)
    f_ref = _objective(X, y, ref.coef_, ref.intercept_, alpha, l1_ratio, s)
    assert f_ours <= f_ref * (1 + 1e-9)
    if kind == "dense" and rho < 0.99 and not scaled:
        # (The coefficients' error is bounded by sqrt(2 gap / mu), mu the strong
        # convexity: small with a small L2 part. The dense runs end on exact
        # subproblem solves, far below tol; the sparse ones near it.)
        scale = np.max(np.abs(ref.coef_))
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-4, atol=1e-5 * scale)
    if kind == "dense":
        # Few iterations: working sets and exact subproblem solves.
        assert ours.n_iter_ <= 30


@pytest.mark.parametrize("l1_ratio", [1.0, 0.7])
def test_default_tol_fit_is_within_tol(l1_ratio):
    X, y = _ar1(2, 300, 400, 0.95)
    alpha = _alpha(X, y, 0.03) / l1_ratio
    ours = GDRegressor(penalty="elasticnet", alpha=alpha, l1_ratio=l1_ratio).fit(X, y)
    assert _certified_gap(X, y, ours.coef_, ours.intercept_, alpha, l1_ratio) <= 1e-4


def test_wide_lasso_memory_below_size_of_x():
    # p >> n: the working sets never build a Gram matrix over a large part of the
    # columns, and the gathered columns are few.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 20_000))
    y = X[:, :5] @ np.ones(5) + rng.standard_normal(50)
    est = GDRegressor(penalty="l1", alpha=0.1)
    tracemalloc.start()
    est.fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < X.nbytes
    assert est.n_iter_ <= 20
    gap = _certified_gap(X, y, est.coef_, est.intercept_, 0.1, 1.0)
    assert gap <= 1e-4


def test_wide_path_matches_enet_path():
    X, y = _ar1(3, 80, 600, 0.9)
    Xc, yc = X - X.mean(0), y - y.mean()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        alphas, ours, intercepts = gd_path(X, y, l1_ratio=0.8, alphas=12, tol=1e-10)
    theirs = enet_path(Xc, yc, l1_ratio=0.8, alphas=alphas, tol=1e-14, max_iter=10**6)
    np.testing.assert_allclose(intercepts, y.mean() - X.mean(0) @ ours, rtol=1e-9)
    for k, alpha in enumerate(alphas):
        # p > n with a small L2 part: the coefficients are determined to the
        # square root of the gap, the objective to the gap.
        f_ours = _objective(X, y, ours[:, k], intercepts[k], alpha, 0.8)
        f_ref = _objective(Xc, yc, theirs[1][:, k], 0.0, alpha, 0.8)
        assert f_ours - f_ref <= 1.5e-10 * 0.5 * np.mean(yc * yc)
        gap = _certified_gap(X, y, ours[:, k], intercepts[k], alpha, 0.8)
        assert gap <= 1.5e-10
    # The coefficients, to what the gap determines of them.
    scale = np.max(np.abs(theirs[1]))
    np.testing.assert_allclose(ours, theirs[1], rtol=1e-3, atol=1e-4 * scale)


def test_path_cv_on_wide_data_matches_elasticnetcv():
    from sklearn.linear_model import ElasticNetCV
    from sklearn.model_selection import KFold

    X, y = _ar1(4, 100, 500, 0.5)
    kw = {"l1_ratio": 0.7, "alphas": 12, "cv": KFold(3)}
    ours = GDRegressorCV(tol=1e-12, max_iter=10**5, **kw).fit(X, y)
    ref = ElasticNetCV(tol=1e-14, max_iter=10**6, **kw).fit(X, y)
    # (At the smallest alphas p > n: the solutions are determined to the square
    # root of the gap; see above.)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-4)
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
