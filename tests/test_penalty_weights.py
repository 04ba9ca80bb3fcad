# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""penalty_weights: alpha multiplied feature by feature in the L1 and L2 parts.

References: the fit at ``alpha * c`` for uniform weights ``c``, scikit-learn's
Lasso on the columns ``X_j / c_j`` for positive weights (``v_j = c_j w_j`` maps
one problem onto the other), a direct linear solve for a ridge penalty with
unpenalized columns, and the KKT conditions computed here in float64.
"""

import os

import numpy as np
import pytest
import scipy.sparse as sp
from _data import TIGHT_TOL, make_problem
from scipy.optimize import minimize
from scipy.special import softmax
from sklearn.linear_model import Lasso

from skgd import GDClassifier, GDRegressor, GDRegressorCV, gd_path
from skgd.penalties import L1, L1L2, L2
from skgd.testing import check_penalty

N_FEATURES = 10
WEIGHTS = np.array([0.5, 1.0, 2.0, 0.3, 1.5, 1.0, 4.0, 0.7, 1.2, 0.9])
ZERO = np.array([0.0, 1.0, 2.0, 0.3, 1.5, 0.0, 4.0, 0.7, 1.2, 0.9])


def _problem(seed=0, n_samples=80):
    return make_problem(seed, n_samples, N_FEATURES)


def _kkt(X, y, coef, intercept, l1, l2, s=None):
    """KKT residuals of the squared loss with per-feature strengths, in float64."""
    s = np.ones(len(y)) if s is None else s
    d = s * (X @ coef + intercept - y) / s.sum()
    g = X.T @ d + l2 * coef
    on = coef != 0
    stationarity = np.abs(g[on] + l1[on] * np.sign(coef[on])).max(initial=0.0)
    inside = np.maximum(np.abs(g[~on]) - l1[~on], 0.0).max(initial=0.0)
    return stationarity, inside, abs(d.sum())


@pytest.mark.parametrize("penalty", ["l1", "elasticnet", "l2"])
def test_uniform_weights_are_alpha_times_c(penalty):
    X, y = _problem()
    kw = {"penalty": penalty, "l1_ratio": 0.5, "solver": "gd", "max_iter": 10**5}
    kw["tol"] = TIGHT_TOL[penalty]
    c = 2.5
    weighted = GDRegressor(alpha=0.04, penalty_weights=np.full(10, c), **kw).fit(X, y)
    scaled = GDRegressor(alpha=0.04 * c, **kw).fit(X, y)
    np.testing.assert_allclose(weighted.coef_, scaled.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_array_equal(weighted.coef_ == 0, scaled.coef_ == 0)


def test_positive_weights_match_lasso_on_rescaled_columns():
    # sum_j c_j |w_j| with v_j = c_j w_j is Lasso's ||v||_1 on the columns X_j / c_j.
    X, y = _problem(1)
    s = np.linspace(0.5, 2.0, len(y))
    ref = Lasso(alpha=0.05, tol=1e-15, max_iter=10**6).fit(X / WEIGHTS, y, s)
    est = GDRegressor(
        penalty="l1",
        alpha=0.05,
        penalty_weights=WEIGHTS,
        tol=TIGHT_TOL["l1"],
        max_iter=10**5,
    ).fit(X, y, sample_weight=s)
    np.testing.assert_allclose(est.coef_, ref.coef_ / WEIGHTS, rtol=1e-7, atol=1e-9)
    assert float(est.intercept_) == pytest.approx(float(ref.intercept_), abs=1e-8)
    assert np.sum(est.coef_ == 0) >= 1


def test_zero_weight_ridge_is_the_direct_solve():
    # Ridge with unpenalized columns: the normal equations of the centered data,
    # (X_c' S X_c / sum(s) + alpha diag(c)) w = X_c' S y_c / sum(s).
    X, y = _problem(2)
    s = np.linspace(0.5, 2.0, len(y))
    alpha = 0.3
    u = s / s.sum()
    Xc, yc = X - u @ X, y - u @ y
    A = Xc.T @ (u[:, None] * Xc) + alpha * np.diag(ZERO)
    exact = np.linalg.solve(A, Xc.T @ (u * yc))
    est = GDRegressor(
        penalty="l2", alpha=alpha, penalty_weights=ZERO, tol=1e-22, max_iter=10**5
    ).fit(X, y, sample_weight=s)
    np.testing.assert_allclose(est.coef_, exact, rtol=1e-8, atol=1e-11)
    assert float(est.intercept_) == pytest.approx(u @ y - (u @ X) @ exact, rel=1e-8)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("positive", [False, True])
def test_zero_weight_kkt(penalty, positive):
    X, y = _problem(3)
    alpha, rho = 0.1, 1.0 if penalty == "l1" else 0.5
    est = GDRegressor(
        penalty=penalty,
        alpha=alpha,
        l1_ratio=rho,
        penalty_weights=ZERO,
        positive=positive,
        tol=1e-22,
        max_iter=10**5,
    ).fit(X, y)
    coef = est.coef_
    assert np.sum(coef == 0) >= 1
    if positive:
        assert coef.min() == 0.0
    else:
        assert np.all(coef[ZERO == 0] != 0)  # unpenalized
    l1, l2 = alpha * rho * ZERO, alpha * (1 - rho) * ZERO
    if not positive:
        np.testing.assert_allclose(
            _kkt(X, y, coef, est.intercept_, l1, l2), 0.0, atol=1e-9
        )
    else:
        d = (X @ coef + est.intercept_ - y) / len(y)
        g = X.T @ d + l2 * coef + l1
        np.testing.assert_allclose(g[coef > 0], 0.0, atol=1e-9)
        assert g[coef == 0].min() >= -1e-9
        assert abs(d.sum()) < 1e-9
    # The solvers stop a problem with an unpenalized feature on the
    # proximal-gradient measure (see dual_scale); dual_gap_ bounds the result
    # (see test_zero_weight_gap_bounds_suboptimality).
    assert L1(1.0, weights=ZERO).dual_scale(np.ones(N_FEATURES)) is None


def _scipy_reference(X, y, loss, l1, l2, positive):
    """Return ``(coef, intercept)`` by L-BFGS-B on the split ``w = w+ - w-``.

    The objective is smooth in ``(w+, w-, b)`` with bounds ``w+, w- >= 0`` (``w-
    = 0`` with ``positive``); ``l1``, ``l2`` are per feature.
    """
    n, p = X.shape

    def value_grad(z):
        wp, wm, b = z[:p], z[p : 2 * p], z[-1]
        w = wp - wm
        raw = X @ w + b
        if loss == "squared_error":
            value, d = 0.5 * np.mean((raw - y) ** 2), (raw - y) / n
        else:
            mu = np.exp(raw)
            value, d = np.mean(mu - y * raw), (mu - y) / n
        value += l1 @ (wp + wm) + 0.5 * (l2 * w) @ w
        g = X.T @ d + l2 * w
        return value, np.r_[g + l1, -g + l1, d.sum()]

    bounds = [(0, None)] * p + [(0, 0 if positive else None)] * p + [(None, None)]
    z = minimize(
        value_grad,
        np.zeros(2 * p + 1),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 0.0, "gtol": 1e-13, "maxiter": 10**5},
    ).x
    return z[:p] - z[p : 2 * p], z[-1]


@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("positive", [False, True])
def test_zero_weight_gap_bounds_suboptimality(loss, penalty, positive):
    # The solvers stop such a fit on the proximal-gradient measure (no scaling
    # makes the gradient's dual point feasible: v_j = 0 is needed where c_j = 0),
    # and dual_gap_ is the gap of the projected dual point: a true bound.
    X, y = _problem(9)
    X = (X - X.mean(0)) / X.std(0)
    if loss == "poisson":
        y = np.random.default_rng(0).poisson(np.exp(0.2 * X[:, :3].sum(1))) * 1.0
    alpha, rho = 0.1, 1.0 if penalty == "l1" else 0.5
    l1, l2 = alpha * rho * ZERO, alpha * (1 - rho) * ZERO

    def objective(coef, intercept):
        raw = X @ coef + intercept
        if loss == "squared_error":
            data = 0.5 * np.mean((y - raw) ** 2)
        else:
            data = np.mean(np.exp(raw) - y * raw)
        return data + l1 @ np.abs(coef) + 0.5 * (l2 * coef) @ coef

    kw = {"loss": loss, "penalty": penalty, "alpha": alpha, "l1_ratio": rho}
    kw.update(penalty_weights=ZERO, positive=positive)
    best = GDRegressor(tol=1e-22, max_iter=10**5, **kw).fit(X, y)
    coef, b = best.coef_, float(best.intercept_)
    # KKT in float64: the gradient is 0 on the unpenalized features, within
    # alpha c_j elsewhere, -alpha c_j sign(w_j) on the support (with positive:
    # 0 on the support, >= -alpha c_j at 0, and 0 on unpenalized features > 0).
    raw = X @ coef + b
    d = (raw - y if loss == "squared_error" else np.exp(raw) - y) / len(y)
    g = X.T @ d + l2 * coef
    on, free = coef != 0, ZERO == 0
    assert abs(d.sum()) < 1e-9
    if positive:
        np.testing.assert_allclose(g[on] + l1[on], 0.0, atol=1e-9)
        assert np.all(g[~on] >= -l1[~on] - 1e-9)
    else:
        np.testing.assert_allclose(g[free], 0.0, atol=1e-9)
        np.testing.assert_allclose(g[on] + l1[on] * np.sign(coef[on]), 0, atol=1e-9)
        assert np.all(np.abs(g[~on]) <= l1[~on] + 1e-9)
    ref = objective(*_scipy_reference(X, y, loss, l1, l2, positive))
    assert objective(coef, b) <= ref + 1e-12
    assert best.dual_gap_ < 1e-9
    for tol in [1e-3, 1e-6]:
        est = GDRegressor(tol=tol, **kw).fit(X, y)
        assert np.isfinite(est.dual_gap_)
        excess = objective(est.coef_, float(est.intercept_)) - ref
        assert excess <= est.dual_gap_ * (1 + 1e-9) + 1e-14


@pytest.mark.parametrize("n_zero", [1, 3, 5])
@pytest.mark.parametrize("loss", ["squared_error", "huber", "poisson"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_zero_weight_fits_stop_on_the_gap(penalty, loss, n_zero):
    # With unpenalized features the fit stops on the gap of the projected dual
    # point: a fit reported converged at the default tol has dual_gap_ within
    # tol times the objective at zero, and dual_gap_ bounds its distance to the
    # optimum (a fit at tol=1e-14 and its own gap).
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skgd._backend import get_backend
    from skgd._objective import LinearObjective
    from skgd.losses import get_loss

    X, y = make_problem(9, 200, N_FEATURES)
    X = (X - X.mean(0)) / X.std(0)
    if loss == "poisson":
        y = np.random.default_rng(0).poisson(np.exp(0.2 * X[:, :3].sum(1))) * 1.0
    c = np.ones(N_FEATURES)
    c[:n_zero] = 0.0
    alpha, rho = 0.1, 1.0 if penalty == "l1" else 0.5
    kw = {"loss": loss, "penalty": penalty, "alpha": alpha, "l1_ratio": rho}
    kw.update(penalty_weights=c, epsilon=1.0)
    the_penalty = L1(alpha, weights=c) if rho == 1.0 else L1L2(alpha, rho, weights=c)
    objective = LinearObjective(
        get_backend(X), X, y, get_loss(loss, epsilon=1.0), the_penalty
    )

    def value(est):
        coef = est.coef_
        offset = objective.offset(coef, float(est.intercept_))
        return objective.value(coef, objective.raw(coef, offset))

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = GDRegressor(**kw).fit(X, y)
    best = GDRegressor(tol=1e-14, max_iter=10**5, **kw).fit(X, y)
    ref = objective.reference_value()
    assert est.dual_gap_ <= est.tol * ref
    assert value(est) - (value(best) - best.dual_gap_) <= est.dual_gap_ * (1 + 1e-9)
    assert best.dual_gap_ <= 1e-12 * ref


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_zero_weight_huber_gap_is_the_suboptimality(penalty):
    # Huber's conjugate is quadratic on a box: the dual point corrected on the
    # samples inside it (not scaled into the box, as the projection in the
    # weights u is) gives the suboptimality itself once the samples' pieces are
    # settled, several times tighter than the projected point's gap.
    from skgd._backend import get_backend
    from skgd._objective import LinearObjective
    from skgd.losses import get_loss

    X, y = make_problem(9, 200, N_FEATURES)
    X = (X - X.mean(0)) / X.std(0)
    c = np.ones(N_FEATURES)
    c[:3] = 0.0
    alpha, rho = 0.1, 1.0 if penalty == "l1" else 0.5
    kw = {"loss": "huber", "epsilon": 1.0, "penalty": penalty, "alpha": alpha}
    kw.update(l1_ratio=rho, penalty_weights=c)
    the_penalty = L1(alpha, weights=c) if rho == 1.0 else L1L2(alpha, rho, weights=c)
    objective = LinearObjective(
        get_backend(X), X, y, get_loss("huber", epsilon=1.0), the_penalty
    )

    def value(est):
        coef = est.coef_
        offset = objective.offset(coef, float(est.intercept_))
        return objective.value(coef, objective.raw(coef, offset))

    best = GDRegressor(tol=1e-14, max_iter=10**5, **kw).fit(X, y)
    est = GDRegressor(tol=1e-6, **kw).fit(X, y)
    excess = value(est) - (value(best) - best.dual_gap_)
    ref = objective.reference_value()
    assert excess <= est.dual_gap_ * (1 + 1e-9)
    assert est.dual_gap_ <= 1.01 * excess + 1e-12 * ref


@pytest.mark.parametrize("kind", ["dense", "sparse", "fortran"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("free", [(0,), (1, 4, 7), tuple(range(6))])
@pytest.mark.parametrize("split", [False, True])
def test_free_gram_equals_the_columns_one_by_one(kind, fit_intercept, free, split):
    # The unpenalized features' Gram columns come from one block product (or
    # the weighted Gram matrix when they are half of the features or more):
    # the same as the two passes per column, backprop(u * raw(e_j, 0)).
    from skgd import _gaps
    from skgd._backend import get_backend
    from skgd._objective import LinearObjective
    from skgd.losses import get_loss

    X, y = _problem(3)
    X[:, 5] = 2.0  # a constant column: inactive with an intercept
    s = np.random.default_rng(1).uniform(0.2, 2.0, len(y))
    X = {"dense": X, "sparse": sp.csr_matrix(X), "fortran": np.asfortranarray(X)}[kind]
    c = np.ones(N_FEATURES)
    c[list(free)] = 0.0
    objective = LinearObjective(
        get_backend(X),
        X,
        y,
        get_loss("squared_error"),
        L1(0.1, weights=c),
        sample_weight=s,
        fit_intercept=fit_intercept,
    )
    eye = np.eye(N_FEATURES)
    expected = np.stack(
        [
            objective.backprop(objective.u * objective.raw(eye[:, j], 0.0))[0]
            for j in free
        ],
        axis=1,
    )
    if split:
        # Blocks of one column each.
        old, _gaps._BLOCK_ENTRIES = _gaps._BLOCK_ENTRIES, 1
    try:
        got = _gaps._free_gram(objective)
    finally:
        if split:
            _gaps._BLOCK_ENTRIES = old
    assert got.shape == (N_FEATURES, len(free))
    np.testing.assert_allclose(
        got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max()
    )


def test_weights_inputs_sparse_float32_and_classifier():
    X, y = _problem(4)
    kw = {"penalty": "l1", "alpha": 0.05, "penalty_weights": WEIGHTS}
    dense = GDRegressor(tol=1e-12, max_iter=10**5, **kw).fit(X, y)
    sparse = GDRegressor(tol=1e-12, max_iter=10**5, **kw).fit(sp.csc_matrix(X), y)
    single = GDRegressor(tol=1e-6, **kw).fit(X.astype(np.float32), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-11)
    assert single.coef_.dtype == np.float32
    np.testing.assert_allclose(single.coef_, dense.coef_, rtol=1e-3, atol=1e-4)
    # Multinomial coefficients (n_features, n_classes): one weight per feature.
    labels = np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))
    # (A tol far below rounding: the fit runs to the gradient's rounding level.)
    clf = GDClassifier(
        penalty="l2", alpha=0.05, penalty_weights=ZERO, tol=1e-20, max_iter=10**5
    ).fit(X, labels)
    W, b = clf.coef_, clf.intercept_
    P = softmax(X @ W.T + b, axis=1)
    grad = X.T @ (P - np.eye(3)[labels]) / len(y) + 0.05 * ZERO[:, None] * W.T
    np.testing.assert_allclose(grad, 0.0, atol=1e-8)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_weights_stochastic_solvers(solver):
    X, y = _problem(5, 400)
    X = (X - X.mean(0)) / X.std(0)
    kw = {"penalty": "l1", "alpha": 0.02, "penalty_weights": WEIGHTS}
    est = GDRegressor(solver=solver, random_state=0, max_iter=200, tol=None, **kw)
    est.fit(X, y)
    ref = GDRegressor(tol=1e-12, **kw).fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=0.05)


def test_weights_path_and_cv():
    X, y = _problem(6)
    Xc, yc = X - X.mean(0), y - y.mean()
    top = np.max(np.abs(Xc.T @ yc) / len(y) / WEIGHTS)
    alphas, coefs, _ = gd_path(
        X, y, l1_ratio=1.0, alphas=6, penalty_weights=WEIGHTS, tol=1e-12
    )
    assert alphas[0] == pytest.approx(top, rel=1e-12)
    assert np.all(coefs[:, 0] == 0)
    assert np.any(coefs[:, 1] != 0)
    # With unpenalized features, alpha_max is taken after fitting them: at it,
    # every penalized coefficient is zero and the unpenalized ones are not.
    zero = ZERO == 0
    [top_zero] = gd_path(X, y, l1_ratio=1.0, alphas=1, penalty_weights=ZERO)[0]
    _, coefs, _ = gd_path(
        X,
        y,
        l1_ratio=1.0,
        alphas=[top_zero, 0.99 * top_zero],
        penalty_weights=ZERO,
        tol=1e-22,
        max_iter=10**5,
    )
    assert np.all(coefs[~zero, 0] == 0)
    assert np.all(coefs[zero, 0] != 0)
    assert np.any(coefs[~zero, 1] != 0)
    cv = GDRegressorCV(l1_ratio=1.0, alphas=6, penalty_weights=WEIGHTS, cv=3)
    cv.fit(X, y)
    assert cv.alphas_[0] == pytest.approx(top, rel=1e-12)
    ref = GDRegressor(
        penalty="elasticnet",
        l1_ratio=1.0,
        alpha=cv.alpha_,
        penalty_weights=WEIGHTS,
        tol=cv.tol,
    ).fit(X, y)
    np.testing.assert_allclose(cv.coef_, ref.coef_)


def test_weights_path_and_cv_equal_lasso_on_rescaled_columns():
    # Positive weights c: the path of sum_j c_j |w_j| is lasso_path's on the
    # columns X_j / c_j (v_j = c_j w_j), alpha_max and the grid included, and
    # the cross-validation picks LassoCV's alpha on the same folds.
    from sklearn.linear_model import LassoCV, lasso_path
    from sklearn.model_selection import KFold

    X, y = _problem(10, 120)
    alphas, coefs, _ = gd_path(
        X, y, l1_ratio=1.0, alphas=8, penalty_weights=WEIGHTS, tol=1e-14
    )
    Xs = X / WEIGHTS
    Xc = Xs - Xs.mean(0)
    top = np.max(np.abs(Xc.T @ (y - y.mean()))) / len(y)
    np.testing.assert_allclose(alphas, np.geomspace(top, 1e-3 * top, 8), rtol=1e-12)
    _, ref_coefs, _ = lasso_path(
        Xc, y - y.mean(), alphas=alphas, tol=1e-14, max_iter=10**6
    )
    np.testing.assert_allclose(
        coefs, ref_coefs / WEIGHTS[:, None], rtol=1e-6, atol=1e-9
    )
    folds = list(KFold(4, shuffle=True, random_state=0).split(X))
    cv = GDRegressorCV(
        l1_ratio=1.0, alphas=8, penalty_weights=WEIGHTS, cv=folds, tol=1e-10
    ).fit(X, y)
    ref = LassoCV(alphas=cv.alphas_, cv=folds, tol=1e-12, max_iter=10**6)
    ref.fit(Xs, y)
    np.testing.assert_allclose(cv.alphas_, alphas, rtol=1e-12)
    np.testing.assert_allclose(cv.mse_path_, ref.mse_path_, rtol=1e-6)
    assert cv.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(cv.coef_, ref.coef_ / WEIGHTS, rtol=1e-5, atol=1e-8)


# Both options, alone and together, on the input kinds the estimators take.
OPTIONS = [
    {"penalty_weights": ZERO, "penalty": "elasticnet", "l1_ratio": 0.5},
    {"positive": True, "penalty": "l1"},
    {"positive": True, "penalty_weights": WEIGHTS, "penalty": "l1"},
]


@pytest.mark.dask
@pytest.mark.parametrize("loss", ["squared_error", "huber"])
@pytest.mark.parametrize("options", OPTIONS, ids=["zero", "positive", "both"])
def test_options_dask_match_numpy(loss, options):
    da = pytest.importorskip("dask.array")
    import dask

    X, y = _problem(7, 200)
    kw = {"loss": loss, "alpha": 0.05, "tol": 1e-12, **options}
    ref = GDRegressor(solver="gd", **kw).fit(X, y)
    with dask.config.set(scheduler="synchronous"):
        est = GDRegressor(**kw).fit(
            da.from_array(X, chunks=(50, 10)), da.from_array(y, chunks=50)
        )
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.array_api
@pytest.mark.parametrize("options", OPTIONS, ids=["zero", "positive", "both"])
def test_options_array_api_match_numpy(options):
    # sklearn's Array API dispatch needs SCIPY_ARRAY_API=1 set before scipy is
    # imported (as the README's test command does).
    if os.environ.get("SCIPY_ARRAY_API") != "1":
        pytest.skip("SCIPY_ARRAY_API=1 is not set")
    xp = pytest.importorskip("array_api_strict")
    import sklearn

    X, y = _problem(8)
    kw = {"alpha": 0.05, "tol": 1e-12, "solver": "gd", **options}
    ref = GDRegressor(**kw).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = GDRegressor(**kw).fit(xp.asarray(X), xp.asarray(y))
    np.testing.assert_allclose(np.asarray(est.coef_), ref.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "penalty",
    [L1(0.3, weights=WEIGHTS[:7]), L2(0.3, weights=WEIGHTS[:7])]
    + [L1L2(0.3, 0.4, positive=True, weights=WEIGHTS[:7])],
    ids=repr,
)
def test_weighted_penalty_contract(penalty):
    # (Weights fix the number of features: check_penalty's fits use another.)
    check_penalty(penalty, n_features=7, solvers=())


def test_zero_weight_conjugate():
    # A feature of weight 0 adds the indicator of v_j = 0 (v_j <= 0 with positive).
    pen = L1L2(1.0, 0.5, weights=[0.0, 2.0])  # feature 1: l1 = l2 = 1
    assert pen.conjugate(np.array([0.0, 3.0])) == pytest.approx(2.0**2 / 2)
    assert np.isinf(pen.conjugate(np.array([1e-300, 3.0])))
    positive = L1L2(1.0, 0.5, weights=[0.0, 2.0], positive=True)
    assert positive.conjugate(np.array([-5.0, 3.0])) == pytest.approx(2.0)
    w, v = np.array([1.5, 0.7]), np.array([0.0, 3.0])
    direct = float(pen.value(w)) + pen.conjugate(v) - w @ v
    assert pen.fenchel_young(w, v) == pytest.approx(direct, rel=1e-12)


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        (np.ones(N_FEATURES - 1), "9 entries but X has 10 features"),
        (-np.ones(N_FEATURES), "non-negative"),
        (np.full(N_FEATURES, np.nan), "finite"),
        (np.ones((2, N_FEATURES)), "1-D"),
    ],
)
def test_weights_errors(weights, match):
    X, y = _problem()
    for est in (GDRegressor, GDRegressorCV):
        with pytest.raises(ValueError, match=match):
            est(penalty_weights=weights).fit(X, y)
    with pytest.raises(ValueError, match=match):
        gd_path(X, y, penalty_weights=weights)
