# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Curvature-aware solvers against references written here, in float64.

The losses and the objective are written out from the contract (not taken from
skgd), and their optima found by scipy: L-BFGS-B on the split coefficients
``w = w+ - w-`` (``w+, w- >= 0``, so that an L1 term is linear) for the smooth
losses, HiGHS's linear programs for the hinge and epsilon-insensitive losses.

- For every smooth loss and every penalty (none included) the Newton-type
  solvers reach that optimum with sample weights, and sparse and float32 X
  without a penalty reach the dense float64 fit.
- The log losses equal LogisticRegression's weighted optimum for every penalty.
- A fit that reports convergence is within ``tol`` of the optimum on AR(1) rho
  0.99 columns and on columns scaled 1e-3..1e3, with sample weights, for every
  loss with L2, L1 and elastic-net penalties (the hinge and epsilon-insensitive
  losses with L1) and for the squared, hinge and epsilon-insensitive losses
  without one, with ``solver`` "auto", "newton" and "gd".
- Several targets are solved as as many separate problems, dense and sparse.
- Sparse X is never densified, whichever solver ``"auto"`` picks.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog, minimize
from scipy.special import expit, logsumexp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVR
from test_claims_curvature import _data, forbid_densifying
from test_no_penalty import _ar1

from skgd import GDClassifier, GDRegressor

EPSILON = 1.0
L1_RATIO = 0.5


# --- The objective of the contract, written out.


def _pointwise(loss, y, f):
    """``(L(y, f), dL/df)`` per sample; ``y`` in {-1, 1} for the binary losses."""
    if loss == "log_loss":
        z = y * f
        return np.logaddexp(0.0, -z), -y * expit(-z)
    if loss == "modified_huber":
        z = y * f
        value = np.where(z >= -1.0, np.maximum(0.0, 1.0 - z) ** 2, -4.0 * z)
        slope = np.where(z >= -1.0, -2.0 * np.maximum(0.0, 1.0 - z), -4.0)
        return value, y * slope
    r = y - f
    if loss == "squared_error":
        return 0.5 * r * r, -r
    if loss == "huber":
        value = np.where(
            np.abs(r) <= EPSILON, 0.5 * r * r, EPSILON * np.abs(r) - 0.5 * EPSILON**2
        )
        return value, -np.clip(r, -EPSILON, EPSILON)
    if loss == "squared_epsilon_insensitive":
        excess = np.maximum(0.0, np.abs(r) - EPSILON)
        return excess**2, -2.0 * np.sign(r) * excess
    raise ValueError(loss)


def _mean_loss(loss, X, y, sw, W, b):
    """The weighted mean loss at ``W`` (p x K) and ``b`` (K,) and its gradients."""
    F = X @ W + b
    if loss == "multinomial":
        lse = logsumexp(F, axis=1)
        Y = np.eye(W.shape[1])[y]
        value, G = lse - np.sum(Y * F, axis=1), np.exp(F - lse[:, None]) - Y
    else:
        value, g = _pointwise(loss, y, F[:, 0])
        G = g[:, None]
    s = sw / sw.sum()
    return s @ value, X.T @ (s[:, None] * G), s @ G


def _penalty(W, alpha, l1_ratio, scale):
    """``alpha * (l1_ratio |W / scale|_1 + (1 - l1_ratio) / 2 |W / scale|^2)``."""
    V = W / scale[:, None]
    value = alpha * (l1_ratio * np.abs(V).sum() + 0.5 * (1 - l1_ratio) * (V * V).sum())
    return value, alpha * (1 - l1_ratio) * V / scale[:, None]


def _reference(loss, X, y, sw, alpha, l1_ratio, n_outputs=1, start=None):
    """``(value, W, b)``: the optimum by scipy's L-BFGS-B, restarted until it stalls.

    It runs on the standardized columns (``W = V / std``: the penalty is weighted
    per column accordingly), where L-BFGS-B's metric suits the loss; ``V`` is
    split into nonnegative parts so that the L1 term is linear. It starts from
    zero, or from ``start = (W, b)`` (the problem is convex: the start changes
    how long it takes, not where it ends).
    """
    mean, std = X.mean(axis=0), X.std(axis=0)
    Z = (X - mean) / std
    p, K = X.shape[1], n_outputs
    l1 = alpha * l1_ratio / std

    def f(v):
        plus, minus = v[: p * K].reshape(p, K), v[p * K : 2 * p * K].reshape(p, K)
        V = plus - minus
        value, gV, gb = _mean_loss(loss, Z, y, sw, V, v[2 * p * K :])
        ridge = alpha * (1 - l1_ratio) * V / (std * std)[:, None]
        value += 0.5 * np.sum(ridge * V) + l1 @ (plus + minus).sum(axis=1)
        gV, lin = (gV + ridge).ravel(), np.repeat(l1, K)
        return value, np.r_[gV + lin, -gV + lin, gb]

    v = np.zeros(2 * p * K + K)
    if start is not None:
        V = start[0] * std[:, None]
        v = np.r_[np.maximum(V, 0.0).ravel(), np.maximum(-V, 0.0).ravel()]
        v = np.r_[v, start[1] + mean @ start[0]]
    bounds = [(0, None)] * (2 * p * K) + [(None, None)] * K
    options = {"maxiter": 100_000, "ftol": 0.0, "gtol": 1e-15, "maxcor": 30}
    for _ in range(4):
        v = minimize(
            f, v, jac=True, method="L-BFGS-B", bounds=bounds, options=options
        ).x
    V = v[: p * K].reshape(p, K) - v[p * K : 2 * p * K].reshape(p, K)
    W = V / std[:, None]
    return f(v)[0], W, v[2 * p * K :] - mean @ W


def _objective(loss, X, y, sw, W, b, alpha, l1_ratio):
    value = _mean_loss(loss, X, y, sw, W, b)[0]
    return value + _penalty(W, alpha, l1_ratio, np.ones(len(W)))[0]


def _lp_reference(loss, X, y, sw, alpha):
    """``(value, w, b)``: the L1 (or, ``alpha=0``, unpenalized) optimum by HiGHS."""
    n, p = X.shape
    Xb = sp.csr_matrix(np.hstack([X, -X, np.ones((n, 1))]))
    slack = -sp.identity(n, format="csr")
    if loss == "hinge":  # 1 - y f <= xi
        A, b_ub = sp.hstack([-sp.diags(y) @ Xb, slack]), -np.ones(n)
    else:  # |y - f| - epsilon <= xi
        A = sp.vstack([sp.hstack([-Xb, slack]), sp.hstack([Xb, slack])])
        b_ub = np.r_[EPSILON - y, EPSILON + y]
    c = np.r_[np.full(2 * p, alpha), 0.0, sw / sw.sum()]
    bounds = [(0, None)] * (2 * p) + [(None, None)] + [(0, None)] * n
    res = linprog(c, A_ub=A.tocsr(), b_ub=b_ub, bounds=bounds, method="highs")
    assert res.status == 0
    return res.fun, res.x[:p] - res.x[p : 2 * p], res.x[2 * p]


def _nonsmooth_objective(loss, X, y, sw, w, b, alpha):
    f = X @ w + b
    if loss == "hinge":
        value = np.maximum(0.0, 1.0 - y * f)
    else:
        value = np.maximum(0.0, np.abs(y - f) - EPSILON)
    return value @ sw / sw.sum() + alpha * np.abs(w).sum()


# --- Estimators and their parameters in the reference's layout.


def _make(loss, penalty, alpha, **params):
    classifier = loss in ("log_loss", "multinomial", "modified_huber", "hinge")
    name = "log_loss" if loss == "multinomial" else loss
    params = dict(loss=name, penalty=penalty, alpha=alpha, l1_ratio=L1_RATIO, **params)
    if not classifier:
        params["epsilon"] = EPSILON
    return (GDClassifier if classifier else GDRegressor)(**params)


def _shape(penalty, alpha):
    """``(alpha, l1_ratio)`` of the contract's objective."""
    ratio = {"l1": 1.0, "l2": 0.0, "elasticnet": L1_RATIO, None: 0.0}[penalty]
    return (alpha if penalty else 0.0), ratio


def _target(loss, y):
    """The target of the reference objective: labels -1, 1 for binary losses."""
    if loss in ("log_loss", "modified_huber", "hinge"):
        return np.where(y == y.max(), 1.0, -1.0)
    return y


def _fitted(est):
    """``(W, b)`` (p x K, K) as float64 numpy arrays."""
    coef = np.asarray(est.coef_, dtype=np.float64)
    W = coef.T if coef.ndim == 2 else coef[:, None]
    return W, np.atleast_1d(np.asarray(est.intercept_, dtype=np.float64))


def _centered(W, b):
    """Less their mean over the classes (which the softmax ignores)."""
    if W.shape[1] > 2:
        return W - W.mean(axis=1, keepdims=True), b - b.mean()
    return W, b


def _fit(est, X, y, sw, certified=True):
    with warnings.catch_warnings():
        warnings.simplefilter("error" if certified else "ignore", ConvergenceWarning)
        return est.fit(X, y, sample_weight=sw)


SMOOTH = [
    ("log_loss", "binary"),
    ("modified_huber", "binary"),
    ("multinomial", "multinomial"),
    ("huber", "regression"),
    ("squared_epsilon_insensitive", "regression"),
]
PENALTIES = [("l2", 0.05), ("l1", 0.02), ("elasticnet", 0.03), (None, 0.0)]


@pytest.fixture(scope="module")
def optimum():
    """The scipy optimum of the weighted problem of tests/test_claims_curvature.py."""
    cache = {}

    def get(loss, kind, penalty, alpha):
        key = (loss, penalty)
        if key not in cache:
            X, y, sw = _data(kind)
            K = 3 if kind == "multinomial" else 1
            cache[key] = _reference(
                loss, X, _target(loss, y), sw, *_shape(penalty, alpha), K
            )
        return cache[key]

    return get


@pytest.mark.parametrize("solver", ["newton", "auto"])
@pytest.mark.parametrize(("penalty", "alpha"), PENALTIES)
@pytest.mark.parametrize(("loss", "kind"), SMOOTH)
def test_every_smooth_loss_and_penalty_reaches_the_optimum(
    optimum, loss, kind, penalty, alpha, solver
):
    # Certified at a relative measure of 1e-15, the coefficients are within
    # about sqrt(2e-15 / mu) of the optimum (mu >= 1e-2 the curvature, of the
    # penalty or, without one, of the loss at the optimum): 1e-6 is safe.
    X, y, sw = _data(kind)
    best, W, b = optimum(loss, kind, penalty, alpha)
    est = _fit(_make(loss, penalty, alpha, solver=solver, tol=1e-15), X, y, sw)
    got_W, got_b = _centered(*_fitted(est))
    want_W, want_b = _centered(W, b)
    scale = np.abs(want_W).max()
    np.testing.assert_allclose(got_W, want_W, rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(got_b, want_b, rtol=0, atol=1e-6 * max(scale, 1.0))
    value = _objective(
        loss, X, _target(loss, y), sw, *_fitted(est), *_shape(penalty, alpha)
    )
    assert value - best <= 1e-12 * abs(best)
    if penalty is None and solver == "newton":
        # The claims file covers sparse and float32 X with a penalty.
        sparse = _fit(
            _make(loss, None, 0.0, solver=solver, tol=1e-15), sp.csr_matrix(X), y, sw
        )
        np.testing.assert_allclose(
            _centered(*_fitted(sparse))[0], got_W, rtol=0, atol=1e-9 * scale
        )
        single = _make(loss, None, 0.0, solver=solver, tol=1e-6)
        single = _fit(single, X.astype(np.float32), y, sw.astype(np.float32))
        assert single.coef_.dtype == np.float32
        got32 = _centered(*_fitted(single))[0]
        np.testing.assert_allclose(got32, want_W, rtol=0, atol=2e-3 * scale)


def _logistic_regression(kind, penalty, alpha, X, y, sw):
    """sklearn's weighted optimum: ``C = 1 / (alpha * sum(sw))`` is skgd's alpha."""
    params = {"tol": 1e-14, "max_iter": 100_000}
    if penalty is None:
        params.update(C=np.inf, solver="newton-cholesky")
    elif penalty == "l2":
        params.update(C=1.0 / (alpha * sw.sum()), solver="newton-cholesky")
    else:
        # saga's elastic net is skgd's: l1_ratio |w|_1 + (1 - l1_ratio) / 2 |w|^2.
        ratio = 1.0 if penalty == "l1" else L1_RATIO
        params.update(C=1.0 / (alpha * sw.sum()), solver="saga", l1_ratio=ratio)
    with warnings.catch_warnings():
        # (The spelling of the penalty moves between scikit-learn versions.)
        warnings.simplefilter("ignore", FutureWarning)
        return LogisticRegression(**params).fit(X, y, sample_weight=sw)


@pytest.mark.parametrize(("penalty", "alpha"), PENALTIES)
@pytest.mark.parametrize("kind", ["binary", "multinomial"])
def test_log_loss_equals_weighted_logistic_regression(kind, penalty, alpha):
    X, y, sw = _data(kind)
    lr = _logistic_regression(kind, penalty, alpha, X, y, sw)
    loss = "log_loss" if kind == "binary" else "multinomial"
    est = _fit(_make(loss, penalty, alpha, tol=1e-15), X, y, sw)
    want = _centered(lr.coef_.T, lr.intercept_)
    got = _centered(*_fitted(est))
    scale = np.abs(want[0]).max()
    np.testing.assert_allclose(got[0], want[0], rtol=0, atol=1e-6 * scale)
    np.testing.assert_allclose(got[1], want[1], rtol=0, atol=1e-6 * max(scale, 1.0))


# --- Claimed convergence on adversarial designs, with a penalty.


def _adversarial(design, loss, seed=0):
    """``(X, y, sw)``: AR(1) rho 0.99 columns, or columns scaled 1e-3..1e3."""
    rng = np.random.default_rng(seed)
    X, _ = _ar1(400, 10, 0.99, seed)
    if design == "scaled":
        X = rng.standard_normal(X.shape) * np.logspace(-3, 3, X.shape[1])
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    signal = Z @ rng.standard_normal(10) / np.sqrt(10)
    if loss == "multinomial":
        logits = Z @ rng.standard_normal((10, 3)) / np.sqrt(10)
        y = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
    elif loss in ("log_loss", "modified_huber", "hinge"):
        y = (signal + rng.logistic(size=400) > 0).astype(int)
    else:
        y = 2.0 * signal + rng.standard_normal(400)
    return X, y, rng.uniform(0.2, 3.0, size=400)


NONSMOOTH = ["hinge", "epsilon_insensitive"]
ADVERSARIAL_PENALTIES = [("l2", 1e-3), ("l1", 1e-3), ("elasticnet", 1e-3)]


@pytest.mark.parametrize(
    ("solver", "kind"),
    [("auto", "float64"), ("newton", "float64"), ("gd", "float64")]
    + [("auto", "float32"), ("auto", "csr")],
)
@pytest.mark.parametrize("design", ["ar1_0.99", "scaled"])
@pytest.mark.parametrize(
    ("loss", "penalty", "alpha"),
    [
        (loss, *penalty)
        for loss in ["squared_error", *[name for name, _ in SMOOTH]]
        for penalty in ADVERSARIAL_PENALTIES
    ]
    # (The reference of a non-smooth loss is a linear program: L1 only.)
    + [(loss, "l1", 1e-3) for loss in NONSMOOTH]
    + [(loss, None, 0.0) for loss in ["squared_error", *NONSMOOTH]],
)
def test_claimed_convergence_on_adversarial_designs_is_within_tol(
    adversarial_optimum, loss, penalty, alpha, design, solver, kind
):
    """A fit without a ConvergenceWarning is within tol * P_0 of the optimum.

    (Without a penalty tests/test_no_penalty.py checks the other losses.)

    P_0 is the optimum without features (at most the objective at zero
    coefficients that ``tol`` is relative to); the optimum is the lower of the
    reference's (scipy, or HiGHS for the hinge) and a tight fit's, of the
    float64 data: rounding X to float32 moves the optimum's value by about
    1e-7 relative, far below tol.
    """
    tol = 1e-4
    X, y, sw = _adversarial(design, loss)
    data = {"float32": X.astype(np.float32), "csr": sp.csr_matrix(X)}.get(kind, X)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always", ConvergenceWarning)
        est = _make(loss, penalty, alpha, solver=solver, tol=tol).fit(
            data, y, sample_weight=sw
        )
    if any(issubclass(r.category, ConvergenceWarning) for r in record):
        # Only "gd" may fall short of tol within max_iter, and it says so.
        assert solver == "gd", [str(r.message) for r in record]
        return
    best, p0 = adversarial_optimum(loss, penalty, alpha, design)
    got = _any_objective(loss, X, _target(loss, y), sw, *_fitted(est), penalty, alpha)
    assert got - best <= tol * p0


def _any_objective(loss, X, target, sw, W, b, penalty, alpha):
    if loss in NONSMOOTH:
        return _nonsmooth_objective(loss, X, target, sw, W[:, 0], b[0], alpha)
    return _objective(loss, X, target, sw, W, b, *_shape(penalty, alpha))


@pytest.fixture(scope="module")
def adversarial_optimum():
    """``(f*, P_0)`` of an adversarial problem, each computed once."""
    cache = {}

    def get(loss, penalty, alpha, design):
        key = (loss, penalty, design)
        if key in cache:
            return cache[key]
        X, y, sw = _adversarial(design, loss)
        target = _target(loss, y)
        tight = _make(loss, penalty, alpha, solver="newton", tol=1e-13, max_iter=10_000)
        tight = _fit(tight, X, y, sw, certified=False)
        W, b = _fitted(tight)
        value = _any_objective(loss, X, target, sw, W, b, penalty, alpha)
        if loss in NONSMOOTH:
            best = _lp_reference(loss, X, target, sw, alpha)[0]
            p0 = _lp_reference(loss, X[:, :0], target, sw, alpha)[0]
        else:
            K = W.shape[1]
            shape = _shape(penalty, alpha)
            best = _reference(loss, X, target, sw, *shape, K, start=(W, b))[0]
            p0 = _reference(loss, X[:, :0], target, sw, 0.0, 0.0, K)[0]
        cache[key] = min(best, value), p0
        return cache[key]

    return get


# --- Several targets.


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("solver", ["newton", "auto"])
@pytest.mark.parametrize(("penalty", "alpha"), PENALTIES)
@pytest.mark.parametrize("loss", ["huber", "squared_epsilon_insensitive"])
def test_several_targets_are_separate_problems(loss, penalty, alpha, solver, fmt):
    X, y, sw = _data("regression")
    rng = np.random.default_rng(5)
    Y = np.c_[y, X @ rng.standard_normal(X.shape[1]) + rng.standard_t(3, len(y))]
    data = sp.csr_matrix(X) if fmt == "csr" else X
    est = _fit(_make(loss, penalty, alpha, solver=solver, tol=1e-15), data, Y, sw)
    assert est.coef_.shape == (2, X.shape[1])
    for k in range(2):
        _, W, b = _reference(loss, X, Y[:, k], sw, *_shape(penalty, alpha))
        scale = np.abs(W).max()
        np.testing.assert_allclose(est.coef_[k], W[:, 0], rtol=0, atol=1e-6 * scale)
        assert est.intercept_[k] == pytest.approx(b[0], abs=1e-6 * max(scale, 1.0))


@pytest.mark.parametrize(("penalty", "alpha"), [("l2", 0.05), ("l1", 0.02), (None, 0)])
@pytest.mark.parametrize(
    "loss", [*[name for name, _ in SMOOTH], "squared_error", *NONSMOOTH]
)
def test_auto_never_densifies_sparse_x(monkeypatch, loss, penalty, alpha):
    """Whichever solver "auto" picks (Newton, L-BFGS, interior points, the Gram)."""
    kind = dict(SMOOTH).get(loss, "binary" if loss == "hinge" else "regression")
    X, y, sw = _data(kind)
    Xs = sp.csr_matrix(X)
    forbid_densifying(monkeypatch, Xs.shape[0])
    est = _fit(_make(loss, penalty, alpha, tol=1e-8), Xs, y, sw)
    est.predict(Xs)


@pytest.mark.parametrize("solver", ["newton", "auto"])
def test_squared_epsilon_insensitive_l2_equals_linear_svr(solver):
    # LinearSVR's primal is C sum_i s_i max(0, |r_i| - eps)^2 + |w|^2 / 2: skgd's
    # alpha is 1 / (C sum(s)). (LinearSVR penalizes its intercept: none here.)
    X, y, sw = _data("regression")
    alpha = 0.05
    svr = LinearSVR(
        loss="squared_epsilon_insensitive",
        epsilon=EPSILON,
        C=1.0 / (alpha * sw.sum()),
        dual=False,
        fit_intercept=False,
        tol=1e-14,
        max_iter=100_000,
    ).fit(X, y, sample_weight=sw)
    est = _make("squared_epsilon_insensitive", "l2", alpha, solver=solver, tol=1e-15)
    est = _fit(est.set_params(fit_intercept=False), X, y, sw)
    scale = np.abs(svr.coef_).max()
    np.testing.assert_allclose(est.coef_, svr.coef_, rtol=0, atol=1e-6 * scale)


def test_several_targets_on_dask_equal_numpy():
    da = pytest.importorskip("dask.array")
    X, y, sw = _data("regression")
    Y = np.c_[y, -2.0 * y + X[:, 0]]
    est = _make("huber", "l1", 0.02, solver="newton", tol=1e-15)
    ref = _fit(est, X, Y, sw)
    ref_coef = ref.coef_.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # dask's own notices
        chunks = dict(chunks=(40, -1))
        got = _fit(
            _make("huber", "l1", 0.02, solver="newton", tol=1e-15),
            da.from_array(X, **chunks),
            da.from_array(Y, **chunks),
            da.from_array(sw, chunks=40),
        )
    scale = np.abs(ref_coef).max()
    np.testing.assert_allclose(np.asarray(got.coef_), ref_coef, atol=1e-6 * scale)


def test_wide_dense_log_loss_by_lbfgs_equals_logistic_regression(capsys):
    # More than 256 dense features: "auto" takes the limited-memory metric.
    rng = np.random.default_rng(0)
    n, p, alpha = 1_000, 300, 1e-3
    X, _ = _ar1(n, p, 0.8, 0)
    y = X @ rng.standard_normal(p) / np.sqrt(p) + rng.logistic(size=n) > 0
    sw = rng.uniform(0.2, 3.0, size=n)
    lr = _logistic_regression("binary", "l2", alpha, X, y.astype(int), sw)
    est = _make("log_loss", "l2", alpha, tol=1e-15, verbose=1)
    est = _fit(est, X, y.astype(int), sw)
    assert "[lbfgs]" in capsys.readouterr().out
    # (A relative gap of 1e-15 bounds the error by sqrt(2e-15 P_0 / alpha), about
    # 1e-6 here: asked for 1e-5 of the largest coefficient.)
    scale = np.abs(lr.coef_).max()
    np.testing.assert_allclose(est.coef_, lr.coef_, rtol=0, atol=1e-5 * scale)
    target = np.where(y, 1.0, -1.0)
    value = _objective("log_loss", X, target, sw, *_fitted(est), alpha, 0.0)
    best = _objective("log_loss", X, target, sw, lr.coef_.T, lr.intercept_, alpha, 0.0)
    assert value - best <= 1e-12 * best
