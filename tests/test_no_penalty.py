# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Unpenalized fits: exact for the squared loss, certified or warned for the others.

The squared-loss fits equal LinearRegression at the default ``tol``.

On dense data with at least as many rows as columns the Gram form solves them in
closed form (the minimum-norm solution of ``G w = q``, in the Jacobi-scaled
coordinates); on sparse X and on wider than tall X the sample form does (an SVD of
dense X, LSMR on sparse or Dask X); the solver certifies the result: one iteration,
converged. The references are
``LinearRegression(tol=1e-12)`` (its default ``tol=1e-6`` is lstsq's cutoff on the
singular values of the unscaled X, which drops real directions of badly scaled
features) or, for the scaled features, the exact rescaling of the unscaled fit.

The other smooth losses are certified by the Newton decrement with the exact
Hessian, or warn: the log loss equals LogisticRegression(penalty=None) (binary and
multinomial), and a fit that reports convergence is within ``tol`` of the optimum
(computed by scipy's L-BFGS-B at a tight tol) on adversarial designs. Huber and
modified huber, whose Hessian is singular where residuals sit on the linear
pieces, are certified by the box gap (the gradient's dual point corrected on the
quadratic pieces): it bounds the suboptimality, and the default fits of
standardized diabetes, breast cancer and digits meet it within tol of the
float64 optimum.
"""

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.optimize import minimize
from scipy.special import logsumexp
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression

from skgd import GDClassifier, GDRegressor
from skgd.losses import get_classifier_loss, get_loss

RTOL = 1e-8


def _fit(X, y, sample_weight=None):
    """Fit ``GDRegressor(penalty=None)`` at the default tol; no warning allowed."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return GDRegressor(penalty=None).fit(X, y, sample_weight=sample_weight)


def _reference(X, y, sample_weight=None):
    lr = LinearRegression(tol=1e-12).fit(X, y, sample_weight=sample_weight)
    return lr.coef_, lr.intercept_


def _ar1(n_samples=2000, n_features=50, rho=0.95, seed=0):
    """An AR(1) design: corr(x_j, x_k) = rho**|j - k| (condition number ~1500)."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n_samples, n_features))
    X = np.empty_like(Z)
    X[:, 0] = Z[:, 0]
    for j in range(1, n_features):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
    X += 3.0
    y = X @ rng.standard_normal(n_features) + rng.standard_normal(n_samples) + 2.0
    return X, y


def _one_hot(seed=0):
    """Four one-hot columns (they sum to 1: rank-deficient with the intercept)."""
    rng = np.random.default_rng(seed)
    levels = rng.integers(0, 4, size=300)
    X = np.hstack([np.eye(4)[levels], rng.standard_normal((300, 3))])
    y = X @ np.arange(7.0) + 3.0 + rng.standard_normal(300)
    return X, y


def _cases():
    X, y = load_diabetes(return_X_y=True)
    scales = np.logspace(-3, 3, X.shape[1])
    coef, intercept = _reference(X, y)
    yield "diabetes", X, y, None, (coef, intercept)
    # Scaling column j by s_j scales its coefficient by 1 / s_j, exactly.
    yield "diabetes_scaled", X * scales, y, None, (coef / scales, intercept)
    X_ar, y_ar = _ar1()
    yield "ar1", X_ar, y_ar, None, _reference(X_ar, y_ar)
    X_oh, y_oh = _one_hot()
    yield "one_hot", X_oh, y_oh, None, _reference(X_oh, y_oh)
    weights = np.random.default_rng(1).uniform(0.0, 3.0, X.shape[0])
    yield "sample_weight", X, y, weights, _reference(X, y, weights)
    Y = np.c_[y, np.sqrt(y), -2.0 * y + 1.0]
    yield "2d_y", X, Y, None, _reference(X, Y)


CASES = {name: case for name, *case in _cases()}


@pytest.mark.parametrize("name", list(CASES))
def test_equals_linear_regression(name):
    X, y, sample_weight, (coef, intercept) = CASES[name]
    reg = _fit(X, y, sample_weight)
    assert_allclose(reg.coef_, coef, rtol=RTOL, atol=0)
    assert_allclose(reg.intercept_, intercept, rtol=RTOL, atol=0)
    # The closed form is the first iteration, and the certification stops there.
    assert reg.n_iter_ == 1
    assert len(reg.loss_curve_) == 1


def test_one_hot_minimum_norm():
    """The one-hot block has a null direction; its coefficients have zero sum."""
    X, y, _, (coef, _) = CASES["one_hot"]
    assert np.linalg.matrix_rank(X - X.mean(axis=0)) == X.shape[1] - 1
    reg = _fit(X, y)
    # (1, 1, 1, 1, 0, 0, 0) spans the null space of the centered X: the minimum-norm
    # solution is orthogonal to it.
    assert abs(reg.coef_[:4].sum()) < 1e-12 * np.abs(reg.coef_).max()
    assert_allclose(reg.coef_, coef, rtol=RTOL, atol=0)


def test_constant_column_stays_zero():
    X, y = load_diabetes(return_X_y=True)
    X = np.hstack([X, np.full((X.shape[0], 1), 7.0)])
    reg = _fit(X, y)
    assert reg.coef_[-1] == 0.0
    coef, intercept = _reference(X[:, :-1], y)
    assert_allclose(reg.coef_[:-1], coef, rtol=RTOL, atol=0)
    assert_allclose(reg.intercept_, intercept, rtol=RTOL, atol=0)


def test_float32():
    """float32: relative error within cond(S) * eps32 (S: the Jacobi-scaled Gram).

    The solve is backward stable on S, whose condition number on diabetes is ~470,
    so the forward error is about cond(S) * eps32 = 470 * 1.2e-7 = 5.6e-5 relative
    to the largest coefficient (measured: 2.3e-5); the reference is the float64
    solution of the same float32 data.
    """
    X, y = load_diabetes(return_X_y=True)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    coef, intercept = _reference(X32.astype(np.float64), y32.astype(np.float64))
    Xc = X32 - X32.mean(axis=0)
    Xs = Xc / np.linalg.norm(Xc, axis=0)
    cond = np.linalg.cond(Xs.astype(np.float64).T @ Xs.astype(np.float64))
    assert 300 < cond < 600
    bound = cond * np.finfo(np.float32).eps
    reg = _fit(X32, y32)
    assert reg.coef_.dtype == np.float32
    assert reg.n_iter_ == 1
    error = np.abs(reg.coef_ - coef).max() / np.abs(coef).max()
    assert error < bound
    # The intercept is the mean of y less x_mean @ w: its error is that of the
    # coefficients weighted by the (small) column means.
    assert abs(reg.intercept_ - intercept) < bound * abs(intercept)


def _wide(n_samples=30, n_features=60, seed=0):
    """More columns than rows: the minimum-norm solution is LinearRegression's."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)) * np.logspace(-1, 1, n_features)
    return X, rng.standard_normal(n_samples)


def _sample_form_cases():
    """Cases fitted in the sample form: sparse X, or fewer rows than columns."""
    X, y = load_diabetes(return_X_y=True)
    weights = np.random.default_rng(1).uniform(0.0, 3.0, X.shape[0])
    X_ar, y_ar = _ar1()
    X_oh, y_oh = _one_hot()
    X_w, y_w = _wide()
    yield "sparse_csr", sp.csr_matrix(X), X, y, None
    yield "sparse_csc_weights", sp.csc_matrix(X), X, y, weights
    # Scales 1e-3..1e3: LSMR runs on the Jacobi-scaled X (same unique solution).
    scaled = X * np.logspace(-3, 3, X.shape[1])
    yield "sparse_scaled", sp.csr_matrix(scaled), scaled, y, None
    yield "sparse_ar1", sp.csr_matrix(X_ar), X_ar, y_ar, None
    # Rank-deficient with the intercept: the minimum-norm solution.
    yield "sparse_one_hot", sp.csr_matrix(X_oh), X_oh, y_oh, None
    yield "sparse_2d_y", sp.csr_matrix(X), X, np.c_[y, np.sqrt(y)], None
    yield "wide", X_w, X_w, y_w, None
    yield "wide_weights", X_w, X_w, y_w, np.linspace(0.5, 2.0, X_w.shape[0])
    yield "wide_2d_y", X_w, X_w, np.c_[y_w, y_w**2], None
    yield "wide_sparse", sp.csr_matrix(X_w), X_w, y_w, None


SAMPLE_FORM = {name: case for name, *case in _sample_form_cases()}


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("name", list(SAMPLE_FORM))
def test_sample_form_equals_linear_regression(name, fit_intercept):
    """Sparse and wide X are solved exactly too (SVD or LSMR), at the default tol."""
    X, X_dense, y, sample_weight = SAMPLE_FORM[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reg = GDRegressor(penalty=None, fit_intercept=fit_intercept)
        reg.fit(X, y, sample_weight=sample_weight)
    lr = LinearRegression(fit_intercept=fit_intercept, tol=1e-12)
    lr.fit(X_dense, y, sample_weight=sample_weight)
    assert_allclose(reg.coef_, lr.coef_, rtol=RTOL, atol=1e-12 * np.abs(lr.coef_).max())
    assert_allclose(reg.intercept_, lr.intercept_, rtol=RTOL, atol=1e-12)
    assert reg.n_iter_ == 1
    assert len(reg.loss_curve_) == 1


def _objective(X, y, coef, intercept, sample_weight=None):
    """Half the weighted mean squared residual: the objective of penalty=None."""
    u = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    r = y - (X @ coef + intercept)
    return 0.5 * np.sum(u * r * r) / np.sum(u)


@pytest.mark.parametrize("name", ["sparse_scaled", "sparse_one_hot", "wide"])
def test_converged_is_within_tol(name):
    """A fit reported converged is within tol (times P_0) of the optimum."""
    X, X_dense, y, _ = SAMPLE_FORM[name]
    tol = 1e-4
    reg = GDRegressor(penalty=None, tol=tol).fit(X, y)
    lr = LinearRegression(tol=1e-12).fit(X_dense, y)
    best = _objective(X_dense, y, lr.coef_, lr.intercept_)
    got = _objective(X_dense, y, reg.coef_, reg.intercept_)
    p0 = 0.5 * np.var(y)
    assert got - best <= tol * p0
    # The one-entry loss curve is the objective at the result.
    assert_allclose(reg.loss_curve_[0], got, rtol=1e-10)


@pytest.mark.parametrize("X", [SAMPLE_FORM["wide"][0], CASES["diabetes"][0]])
def test_loss_curve_at_the_closed_form_offset(X):
    """The curve's entry is the objective at the fit, whatever intercept_init was."""
    y = SAMPLE_FORM["wide"][2] if X.shape[0] == 30 else CASES["diabetes"][1]
    reg = GDRegressor(penalty=None).fit(X, y, intercept_init=123.0)
    got = _objective(X, y, reg.coef_, reg.intercept_)
    assert_allclose(reg.loss_curve_, [got], rtol=1e-10)


def test_float32_sample_form():
    """float32 sparse (LSMR in float64) and wide (SVD in float32) X.

    The reference is the float64 solution of the same float32 data; float32
    LinearRegression itself is within a float32-level tolerance of it on the tall
    problem (on the wide one, its cutoff at ``tol=1e-6`` lets rounding through).
    """
    X, y = load_diabetes(return_X_y=True)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    ref = LinearRegression(tol=1e-12).fit(X32.astype(np.float64), y32)
    reg = _fit(sp.csr_matrix(X32), y32)
    assert reg.coef_.dtype == np.float32
    assert reg.n_iter_ == 1
    scale = np.abs(ref.coef_).max()
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-6, atol=1e-6 * scale)
    lr32 = LinearRegression().fit(X32, y32)
    assert_allclose(reg.coef_, lr32.coef_, rtol=1e-3, atol=1e-4 * scale)
    X_w, y_w = _wide()
    Xw32, yw32 = X_w.astype(np.float32), y_w.astype(np.float32)
    ref = LinearRegression(tol=1e-12).fit(Xw32.astype(np.float64), yw32)
    reg = _fit(Xw32, yw32)
    assert reg.coef_.dtype == np.float32
    assert reg.n_iter_ == 1
    # cond(X_c) ~ 100 over the kept singular values: error ~ cond * eps32.
    error = np.abs(reg.coef_ - ref.coef_).max() / np.abs(ref.coef_).max()
    assert error < 100 * np.finfo(np.float32).eps


def test_tall_beyond_the_ridge_limit():
    """Dense tall X with more than 512 features: the Gram form's eigh still applies."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((700, 520)) + 1.0
    y = X @ rng.standard_normal(520) + rng.standard_normal(700)
    reg = _fit(X, y)
    coef, intercept = _reference(X, y)
    assert reg.n_iter_ == 1
    assert_allclose(reg.coef_, coef, rtol=RTOL, atol=1e-12 * np.abs(coef).max())
    assert_allclose(reg.intercept_, intercept, rtol=RTOL)


def test_wide_dask():
    """Wide Dask X (no Gram reduction: more columns than rows) goes through LSMR.

    Each LSMR product is one compute; the tall case is the Gram form's (see
    tests/test_dask.py).
    """
    da = pytest.importorskip("dask.array")
    X, y = _wide()
    lr = LinearRegression(tol=1e-12).fit(X, y)
    reg = _fit(da.from_array(X, chunks=(10, -1)), da.from_array(y, chunks=10))
    assert reg.n_iter_ == 1
    assert_allclose(reg.coef_, lr.coef_, rtol=RTOL, atol=1e-12 * np.abs(lr.coef_).max())
    assert_allclose(reg.intercept_, lr.intercept_, rtol=RTOL)


def test_namespace_without_eigh_iterates(monkeypatch):
    """Without ``linalg.eigh`` there is no closed form: the iterations run instead."""
    import array_api_compat.numpy as cxp

    monkeypatch.delattr(cxp.linalg, "eigh")
    X, y, _, (coef, intercept) = CASES["diabetes"]
    reg = GDRegressor(penalty=None, tol=1e-20, max_iter=100_000).fit(X, y)
    assert reg.n_iter_ > 1
    assert_allclose(reg.coef_, coef, rtol=1e-6)


@pytest.mark.array_api
@pytest.mark.parametrize("namespace", ["array_api_strict", "torch"])
def test_wide_array_api(namespace):
    """Wide X of another namespace: the SVD by the namespace's own linalg."""
    import sklearn

    xp = pytest.importorskip(namespace)
    X, y = _wide()
    lr = LinearRegression(tol=1e-12).fit(X, y)
    try:
        with sklearn.config_context(array_api_dispatch=True):
            reg = _fit(xp.asarray(X), xp.asarray(y))
    except RuntimeError as exc:  # sklearn's check without SCIPY_ARRAY_API=1
        pytest.skip(str(exc))
    assert reg.n_iter_ == 1
    coef = np.asarray(reg.coef_.cpu() if hasattr(reg.coef_, "cpu") else reg.coef_)
    assert_allclose(coef, lr.coef_, rtol=RTOL, atol=1e-12 * np.abs(lr.coef_).max())


# --- Losses other than the squared one: certified by the Newton decrement or warned.


def _softmax_data(n_samples=600, seed=0):
    """Three classes with noisy logits: not separable, so the optimum exists."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, 5)) @ np.triu(np.ones((5, 5))) + 2.0
    logits = X @ rng.standard_normal((5, 3)) + 2.0 * rng.gumbel(size=(n_samples, 3))
    return X, np.argmax(logits, axis=1)


def _binary_data():
    """Breast cancer's first ten standardized features (all thirty are separable)."""
    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, :10]
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def _logistic_regression(X, y):
    with warnings.catch_warnings():
        # (penalty=None is deprecated in recent scikit-learn, C=inf is not in old.)
        warnings.simplefilter("ignore", FutureWarning)
        lr = LogisticRegression(
            penalty=None, solver="newton-cholesky", tol=1e-12, max_iter=1_000
        )
        return lr.fit(X, y)


def _centered(coef):
    """Coefficients less their mean over the classes (the softmax ignores it)."""
    return coef - coef.mean(axis=0) if coef.shape[0] > 1 else coef


@pytest.mark.parametrize("solver", ["auto", "newton"])
@pytest.mark.parametrize(("tol", "rtol"), [("default", 1e-3), (1e-10, 1e-6)])
@pytest.mark.parametrize("kind", ["binary", "multinomial"])
def test_log_loss_equals_logistic_regression(kind, tol, rtol, solver):
    """``penalty=None`` is LogisticRegression(penalty=None), certified, no warning.

    Newton steps (binary), or L-BFGS finished by Newton steps with the exact
    softmax Hessian (multinomial), stop on the decrement and take the step it was
    measured for. ("gd" stops within tol of the optimum in objective, which says
    less of the coefficients: see test_claimed_convergence_is_within_tol.)
    """
    X, y = _binary_data() if kind == "binary" else _softmax_data()
    lr = _logistic_regression(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = GDClassifier(penalty=None, solver=solver)
        if tol != "default":
            est.set_params(tol=tol)
        est.fit(X, y)
    scale = np.abs(lr.coef_).max()
    got, want = _centered(est.coef_), _centered(lr.coef_)
    assert_allclose(got, want, rtol=0, atol=rtol * scale)


def _ar1_design(rho=0.99, n_samples=400, n_features=10, seed=0):
    X, _ = _ar1(n_samples, n_features, rho, seed)
    return X


def _adversarial(design, kind, seed=0):
    """``(X, y)``: AR(1) rho 0.99 columns, or columns scaled 1e-3..1e3."""
    rng = np.random.default_rng(seed)
    X = _ar1_design(seed=seed)
    if design == "scaled":
        X = rng.standard_normal(X.shape) * np.logspace(-3, 3, X.shape[1])
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    signal = Z @ rng.standard_normal(X.shape[1]) / np.sqrt(X.shape[1])
    if kind == "classifier":
        y = (signal + rng.logistic(size=len(signal)) > 0).astype(int)
    elif kind == "multinomial":
        logits = Z @ rng.standard_normal((X.shape[1], 3)) / np.sqrt(X.shape[1])
        y = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
    elif kind == "count":
        y = rng.poisson(np.exp(0.5 * signal)).astype(float)
    else:
        y = signal + rng.standard_normal(len(signal))
    return X, y


def _mean_objective(v, loss, X, y, n_classes):
    """The mean loss at ``v = (w, b)`` (flattened) and its gradient."""
    n, p = X.shape
    if n_classes > 2:
        W, b = v[: p * n_classes].reshape(p, n_classes), v[p * n_classes :]
        Z = X @ W + b
        lse = logsumexp(Z, axis=1)
        Y = np.eye(n_classes)[y]
        P = np.exp(Z - lse[:, None]) - Y
        value = np.mean(lse - np.sum(Y * Z, axis=1))
        return value, np.r_[(X.T @ P).ravel(), P.sum(axis=0)] / n
    raw = X @ v[:-1] + v[-1]
    g = loss.gradient(y, raw)
    return float(np.mean(loss.pointwise(y, raw))), np.r_[X.T @ g, g.sum()] / n


def _optimum(loss, X, y, n_classes):
    """``(f*, P_0)``: the optimum by scipy's L-BFGS-B at a tight tol, in float64.

    It runs on the standardized columns (the same minimum: the objective is
    invariant to the affine map), restarted until it stalls. ``P_0`` is the
    optimum of the model without features, at most the solvers' reference.
    """
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    size = (X.shape[1] + 1) * (n_classes if n_classes > 2 else 1)
    v, options = np.zeros(size), {"maxiter": 50_000, "ftol": 0.0, "gtol": 1e-14}
    best = np.inf
    for _ in range(3):
        res = minimize(
            _mean_objective,
            v,
            args=(loss, Z, y, n_classes),
            jac=True,
            method="L-BFGS-B",
            options=options,
        )
        v, best = res.x, min(best, res.fun)
    no_features = np.ones((X.shape[0], 0))
    res = minimize(
        _mean_objective,
        np.zeros(n_classes if n_classes > 2 else 1),
        args=(loss, no_features, y, n_classes),
        jac=True,
        method="L-BFGS-B",
        options=options,
    )
    return best, res.fun


ADVERSARIAL = [
    ("log_loss", "classifier"),
    ("modified_huber", "classifier"),
    ("log_loss", "multinomial"),
    ("huber", "regressor"),
    ("squared_epsilon_insensitive", "regressor"),
    ("poisson", "count"),
]


CERTIFIED_BY_AUTO = {
    ("log_loss", "classifier"),
    ("log_loss", "multinomial"),
    ("modified_huber", "classifier"),
    ("huber", "regressor"),
    ("poisson", "count"),
}


@pytest.mark.parametrize("solver", ["auto", "gd"])
@pytest.mark.parametrize("design", ["ar1_0.99", "scaled"])
@pytest.mark.parametrize(("loss", "kind"), ADVERSARIAL)
def test_claimed_convergence_is_within_tol(loss, kind, design, solver):
    """A fit reported converged (no ConvergenceWarning) is within tol of the optimum.

    Relative to P_0 (the optimum without features), on AR(1) rho 0.99 columns and
    on columns scaled 1e-3..1e3; a fit that is not within tol must warn.
    """
    tol = 1e-4
    X, y = _adversarial(design, kind)
    n_classes = 3 if kind == "multinomial" else 2
    cls = GDClassifier if kind in ("classifier", "multinomial") else GDRegressor
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", ConvergenceWarning)
        est = cls(loss=loss, penalty=None, tol=tol, solver=solver).fit(X, y)
    if any(issubclass(r.category, ConvergenceWarning) for r in record):
        # Newton (and L-BFGS finished by Newton) certify these within max_iter.
        assert solver != "auto" or (loss, kind) not in CERTIFIED_BY_AUTO
        return
    if n_classes > 2:
        v, target = np.r_[est.coef_.T.ravel(), est.intercept_], y
    else:
        v = np.r_[np.ravel(est.coef_), np.ravel(est.intercept_)[0]]
        target = 2.0 * y - 1.0 if cls is GDClassifier else y
    getter = get_classifier_loss if cls is GDClassifier else get_loss
    objective = getter(loss) if n_classes == 2 else None
    best, p0 = _optimum(objective, X, target, n_classes)
    got = _mean_objective(v, objective, X, target, n_classes)[0]
    assert got - best <= tol * p0


def test_uncertified_huber_warning_gives_a_number_not_nan():
    # Huber's default epsilon on the raw diabetes target leaves every residual on
    # a linear piece: the Hessian is zero, the decrement 0/0. Where "gd" has not
    # settled the pieces within max_iter (neither the decrement nor the box
    # gap certifies), the warning says the measure is infinite, not "nan".
    X, y = load_diabetes(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    with pytest.warns(ConvergenceWarning, match="did not certify") as record:
        GDRegressor(loss="huber", penalty=None, solver="gd").fit(X, y)
    messages = [str(r.message) for r in record]
    assert not any("nan" in m for m in messages), messages
    assert any("inf relative" in m for m in messages), messages


def _standard(name):
    """A standardized dataset and its targets for the loss (labels -1, +1)."""
    loaders = {"diabetes": load_diabetes, "cancer": load_breast_cancer}
    if name == "digits":
        from sklearn.datasets import load_digits

        loaders[name] = load_digits
    X, y = loaders[name](return_X_y=True)
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0), y


def _box_objective(loss, X, y, sample_weight=None, fit_intercept=True):
    from skgd._backend import get_backend
    from skgd._objective import LinearObjective
    from skgd.penalties import NoPenalty

    return LinearObjective(
        get_backend(X),
        X,
        y,
        loss,
        NoPenalty(),
        sample_weight=sample_weight,
        fit_intercept=fit_intercept,
    )


def _box_optimum(objective):
    """``(w*, c*, P*)`` by scipy's L-BFGS-B on the exact objective, in float64.

    The loss is made of quadratic and linear pieces (C1): L-BFGS-B, restarted
    until it stalls, reaches its minimum to about 1e-15 relative.
    """
    y, u = objective.y, objective.u
    loss, p = objective.loss, objective.n_features
    free = objective.intercept_mode == "free"

    def f(v):
        raw = objective.raw(v[:p], v[p] if free else 0.0)
        g = u * loss.gradient(y, raw)
        grad_w = objective.backprop(g)[0]
        value = float(u @ loss.pointwise(y, raw))
        return value, np.r_[grad_w, g.sum()] if free else grad_w

    v = np.r_[np.zeros(p), objective.initial_offset()] if free else np.zeros(p)
    options = {"maxiter": 50_000, "ftol": 0.0, "gtol": 1e-14, "maxcor": 30}
    for _ in range(3):
        v = minimize(f, v, jac=True, method="L-BFGS-B", options=options).x
    c = v[p] if free else 0.0
    return v[:p], c, f(v)[0]


BOX_CASES = [("diabetes", "huber"), ("cancer", "modified_huber")]


@pytest.mark.parametrize(("data", "loss"), BOX_CASES)
def test_box_loss_certified_at_defaults(data, loss):
    """Huber and modified huber without a penalty converge, certified, at defaults.

    The generalized Newton steps stop on the box gap (no warning), the result is
    within tol of the float64 optimum, and ``dual_gap_`` bounds its distance.
    """
    X, y = _standard(data)
    cls = GDRegressor if data == "diabetes" else GDClassifier
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = cls(loss=loss, penalty=None).fit(X, y)
    target = y if cls is GDRegressor else np.where(y == est.classes_[1], 1.0, -1.0)
    getter = get_loss if cls is GDRegressor else get_classifier_loss
    objective = _box_objective(getter(loss), X, target)
    *_, best = _box_optimum(objective)
    coef = np.ravel(est.coef_)
    c = objective.offset(coef, float(np.ravel(est.intercept_)[0]))
    got = objective.value(coef, objective.raw(coef, c))
    tol, ref = est.tol, objective.reference_value()
    assert got - best <= est.dual_gap_ + 1e-12 * ref
    assert est.dual_gap_ <= tol * ref


@pytest.mark.slow
def test_modified_huber_certified_on_digits():
    """One-vs-rest modified huber on standardized digits: each class certified."""
    X, y = _standard("digits")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = GDClassifier(loss="modified_huber", penalty=None).fit(X, y)
    for k in (0, 3, 8):
        target = np.where(y == k, 1.0, -1.0)
        objective = _box_objective(get_classifier_loss("modified_huber"), X, target)
        *_, best = _box_optimum(objective)
        coef = est.coef_[k]
        c = objective.offset(coef, float(est.intercept_[k]))
        got = objective.value(coef, objective.raw(coef, c))
        assert got - best <= est.dual_gap_[k] + 1e-12 * objective.reference_value()
        assert est.dual_gap_[k] <= est.tol * objective.reference_value()


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("loss", ["huber", "modified_huber"])
def test_box_gap_is_a_bound(loss, weighted, fit_intercept):
    """box_gap bounds the suboptimality, is 0 at the optimum, inf where unsettled."""
    from skgd._gaps import box_gap, box_gap_applies

    rng = np.random.default_rng(0)
    scales = np.array([1.0, 1e-2, 1e2, 3.0, 1.0])
    X = rng.standard_normal((200, 5)) * scales
    signal = X @ (rng.standard_normal(5) / scales) + 0.5
    if loss == "huber":
        the_loss, y = get_loss(loss, epsilon=0.5), signal + rng.standard_t(2, 200)
    else:
        the_loss = get_classifier_loss(loss)
        y = np.where(signal + rng.logistic(size=200) > 0, 1.0, -1.0)
    weights = rng.uniform(0.0, 2.0, 200) if weighted else None
    objective = _box_objective(the_loss, X, y, weights, fit_intercept)
    assert box_gap_applies(objective)
    w, c, best = _box_optimum(objective)
    ref = objective.reference_value()
    assert box_gap(objective, w, c) <= 1e-9 * ref
    finite = 0
    for scale in (1e-6, 1e-4, 1e-2, 1.0):
        dw = scale * rng.standard_normal(5) / np.abs(X).mean(axis=0)
        dc = scale if fit_intercept else 0.0
        gap = box_gap(objective, w + dw, c + dc)
        value = objective.value(w + dw, objective.raw(w + dw, c + dc))
        assert value - best <= gap * (1 + 1e-9) + 1e-14 * ref
        finite += math.isfinite(gap)
    # (Near the optimum the pieces are settled: the bound is not vacuous.)
    assert finite >= 2
    assert box_gap(objective, np.zeros(5), objective.initial_offset()) > 0


@pytest.mark.parametrize("kind", ["float32", "sparse"])
def test_box_loss_certified_float32_and_sparse(kind):
    """The box gap of a float32 or sparse fit is a bound, as in float64.

    Half the entries of the standardized diabetes columns set to 0 (sparse
    data), huber at its default epsilon: few samples sit inside the box, and a
    float32 Gram matrix's rounding must not pass for curvature there.
    """
    X, y = _standard("diabetes")
    X[np.abs(X) < 0.5] = 0.0
    data = X.astype(np.float32) if kind == "float32" else sp.csr_matrix(X)
    target = y.astype(np.float32) if kind == "float32" else y
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = GDRegressor(loss="huber", penalty=None).fit(data, target)
    objective = _box_objective(get_loss("huber"), X, y)
    *_, best = _box_optimum(objective)
    coef = np.asarray(est.coef_, dtype=np.float64)
    c = objective.offset(coef, float(est.intercept_))
    got = objective.value(coef, objective.raw(coef, c))
    ref = objective.reference_value()
    assert est.dual_gap_ >= -1e-6 * ref
    assert got - best <= est.tol * ref
