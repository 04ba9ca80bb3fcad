# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Quantile regression: the pinball loss with every penalty, against exact references.

The references are QuantileRegressor (HiGHS) and :func:`scipy.optimize.linprog` for
L1 and no penalty (linear programs, whose coefficients may be non-unique: objectives
are compared), and the KKT conditions of the true problem, checked in float64 by a
bounded least-squares search for the subgradients (:func:`_kkt_residual`), for every
penalty.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog, lsq_linear
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import QuantileRegressor

from skgd import GDRegressor
from skgd.losses import Pinball, SmoothedPinball, get_loss
from skgd.testing import check_loss

QUANTILES = [0.1, 0.5, 0.9]
TOL = 1e-8


def _problem(n=150, p=6, seed=0):
    """Return a heteroscedastic regression problem with heavy-tailed noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)) * np.linspace(0.5, 3.0, p)
    noise = rng.standard_t(3, size=n) * (1.0 + np.abs(X[:, 0]))
    y = X @ rng.normal(size=p) + 2.0 + noise
    return X, y


def _objective(X, y, w, b, q, alpha, l1_ratio=1.0, sample_weight=None):
    """Return the weighted mean pinball loss plus the elastic-net penalty."""
    r = y - X @ w - b
    s = np.ones_like(y) if sample_weight is None else sample_weight
    data = np.sum(s * np.maximum(q * r, (q - 1.0) * r)) / np.sum(s)
    return data + alpha * (l1_ratio * np.abs(w).sum() + 0.5 * (1 - l1_ratio) * w @ w)


def _lp(X, y, q, alpha, sample_weight=None):
    """Return the optimum of the L1 (or unpenalized) problem by linprog (HiGHS).

    Variables ``[w+, w-, b+, b-, r+, r-]`` >= 0 with ``X (w+ - w-) + b+ - b- + r+ -
    r- = y``; the objective is ``sum_i u_i (q r+_i + (1 - q) r-_i) + alpha
    sum(w+ + w-)``.
    """
    n, p = X.shape
    u = np.ones(n) if sample_weight is None else sample_weight
    u = u / u.sum()
    c = np.r_[np.full(2 * p, alpha), 0.0, 0.0, q * u, (1 - q) * u]
    one = np.ones((n, 1))
    A = np.hstack([X, -X, one, -one, np.eye(n), -np.eye(n)])
    res = linprog(c, A_eq=A, b_eq=y, bounds=(0, None), method="highs")
    assert res.status == 0
    return res.fun


def _kkt_residual(X, y, w, b, q, alpha, l1_ratio, sample_weight=None, zero=1e-6):
    """Return how far ``(w, b)`` is from the optimality conditions, in float64.

    At the optimum there are ``g_i`` in the pinball loss's superdifferential of
    ``-d/draw`` (``q`` where the residual is positive, ``q - 1`` where negative,
    anything in ``[q - 1, q]`` where it is zero) and ``s_j`` in the subdifferential
    of ``|w_j|`` with ``sum_i u_i g_i x_i = alpha (rho s + (1 - rho) w)`` and
    ``sum_i u_i g_i = 0``. Residuals and coefficients within ``zero`` of 0 (the
    solution's accuracy) take the free values; the smallest violation over them is
    found by bounded least squares. Returned relative to ``max(alpha, 1)``.
    """
    n, p = X.shape
    u = np.ones(n) if sample_weight is None else sample_weight
    u = u / u.sum()
    r = y - X @ w - b
    scale = zero * max(1.0, np.abs(y).max())
    free_g = np.abs(r) <= scale
    g = np.where(r > 0, q, q - 1.0)
    free_s = np.abs(w) <= zero
    # Equations: rows 0..p-1 the coefficients, row p the intercept.
    A_full = np.vstack([(u[:, None] * X).T, u[None, :]])
    target = A_full[:, ~free_g] @ g[~free_g]
    target[:p] -= alpha * (1 - l1_ratio) * w + alpha * l1_ratio * np.sign(w) * ~free_s
    cols = [A_full[:, free_g]]
    lower, upper = [np.full(free_g.sum(), q - 1.0)], [np.full(free_g.sum(), q)]
    if l1_ratio > 0 and free_s.any():
        cols.append(-alpha * l1_ratio * np.eye(p + 1, p)[:, free_s])
        lower.append(-np.ones(free_s.sum()))
        upper.append(np.ones(free_s.sum()))
    A = np.hstack(cols)
    if A.shape[1] == 0:
        return np.abs(target).max() / max(alpha, 1.0)
    sol = lsq_linear(A, -target, bounds=(np.concatenate(lower), np.concatenate(upper)))
    return np.abs(A @ sol.x + target).max() / max(alpha, 1.0)


def _fit(q, **params):
    params = {"tol": TOL, "max_iter": 50_000, **params}
    return GDRegressor(loss="quantile", quantile=q, **params)


@pytest.mark.parametrize("q", QUANTILES)
def test_loss_contract(q):
    check_loss(Pinball(quantile=q))
    check_loss(Pinball(quantile=q).smoothed(0.3))


@pytest.mark.parametrize("q", QUANTILES)
@pytest.mark.parametrize("mu", [None, 0.5])
def test_conjugate_is_fenchel_young_tight(q, mu):
    """The dual value is the conjugate: Fenchel-Young holds, with equality at the
    gradient, and it equals ``sup_f`` computed on a fine grid."""
    rng = np.random.default_rng(1)
    loss = Pinball(quantile=q) if mu is None else Pinball(quantile=q).smoothed(mu)
    n = 40
    y, raw = rng.normal(size=n), rng.normal(size=n)
    u = rng.uniform(0.5, 2.0, size=n)
    u /= u.sum()
    primal = np.sum(u * loss.pointwise(y, raw))

    def dual(theta):
        return float(loss.dual_value(y, theta, u))

    theta_star = -u * loss.gradient(y, raw)
    assert primal + theta_star @ raw == pytest.approx(dual(theta_star), rel=1e-12)
    for _ in range(20):
        theta = u * rng.uniform(q - 1.0, q, size=n)  # inside the box
        assert primal + theta @ raw >= dual(theta) - 1e-12
    # The conjugate of each sample by brute force: -u L*(-theta/u) is
    # inf_f u L(f) + theta f, on a grid wide enough to hold the minimiser.
    for i in range(3):
        theta = u[i] * rng.uniform(q - 1.0, q)
        # (y_i itself on the grid: the pinball loss's minimiser is at its kink.)
        grid = np.sort(np.r_[np.linspace(-30, 30, 600_001), y[i]])
        yi = np.full_like(grid, y[i])
        brute = np.min(u[i] * loss.pointwise(yi, grid) + theta * grid)
        exact = float(loss.dual_value(y[i : i + 1], np.array([theta]), u[i : i + 1]))
        assert brute == pytest.approx(exact, abs=1e-9)


def test_smoothed_is_the_moreau_envelope():
    """``min_z rho(z) + (r - z)^2 / (2 mu)`` by brute force, and its distance."""
    q, mu = 0.8, 0.7
    loss, envelope = Pinball(quantile=q), SmoothedPinball(quantile=q, mu=mu)
    z = np.linspace(-10, 10, 400_001)
    for r in [-3.0, -0.4, 0.0, 0.3, 0.55, 2.0]:
        brute = np.min(np.maximum(q * z, (q - 1) * z) + (r - z) ** 2 / (2 * mu))
        got = float(envelope.pointwise(np.array([r]), np.zeros(1))[0])
        assert got == pytest.approx(brute, abs=1e-9)
        true = float(loss.pointwise(np.array([r]), np.zeros(1))[0])
        assert 0 <= true - got <= mu * max(q, 1 - q) ** 2 / 2 + 1e-15
        # smoothed(mu) is within mu / 2, with curvature at most 1 / mu.
        stage = loss.smoothed(mu)
        within = true - float(stage.pointwise(np.array([r]), np.zeros(1))[0])
        assert 0 <= within <= mu / 2 + 1e-15
        assert stage.curvature_bound <= 1 / mu


def test_parameter_and_factory():
    assert get_loss("quantile", quantile=0.3) == Pinball(quantile=0.3)
    assert GDRegressor().get_params()["quantile"] == 0.5
    X, y = _problem()
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="quantile"):
            GDRegressor(loss="quantile", quantile=bad).fit(X, y)


@pytest.mark.parametrize("solver", ["auto", "gd"])
@pytest.mark.parametrize("q", QUANTILES)
def test_l1_equals_quantile_regressor(q, solver):
    """Interior points ("auto") and the smoothing stages of "gd" both meet HiGHS."""
    X, y = _problem()
    alpha = 0.02
    ref = QuantileRegressor(quantile=q, alpha=alpha, solver="highs").fit(X, y)
    best = _objective(X, y, ref.coef_, ref.intercept_, q, alpha)
    assert _lp(X, y, q, alpha) == pytest.approx(best, rel=1e-9)
    est = _fit(q, penalty="l1", alpha=alpha, solver=solver).fit(X, y)
    got = _objective(X, y, est.coef_, est.intercept_, q, alpha)
    assert best <= got <= best * (1 + 1e-7)
    # The certificate: the reported gap bounds the true suboptimality.
    assert got - best <= est.dual_gap_ * (1 + 1e-6) + 1e-15
    res = _kkt_residual(X, y, est.coef_, est.intercept_, q, alpha, 1.0, zero=1e-4)
    assert res < 1e-6


@pytest.mark.parametrize("q", QUANTILES)
@pytest.mark.parametrize(("penalty", "l1_ratio"), [("l2", 0.0), ("elasticnet", 0.5)])
def test_l2_and_elasticnet_meet_kkt(q, penalty, l1_ratio):
    X, y = _problem(seed=2)
    alpha = 0.05
    est = _fit(q, penalty=penalty, alpha=alpha, l1_ratio=l1_ratio).fit(X, y)
    res = _kkt_residual(X, y, est.coef_, est.intercept_, q, alpha, l1_ratio, zero=1e-4)
    assert res < 1e-6
    # A perturbation of the KKT point only raises the objective.
    value = _objective(X, y, est.coef_, est.intercept_, q, alpha, l1_ratio)
    rng = np.random.default_rng(0)
    for _ in range(10):
        dw = 1e-3 * rng.normal(size=X.shape[1])
        other = _objective(X, y, est.coef_ + dw, est.intercept_, q, alpha, l1_ratio)
        assert other >= value - 1e-9


@pytest.mark.parametrize("q", QUANTILES)
def test_no_penalty_warns_and_small_penalty_is_certified(q):
    """Without a penalty "gd" has no gap: a ConvergenceWarning, and a feasible point
    of QuantileRegressor(alpha=0)'s linear program (the default route solves that
    program exactly: tests/test_interior_point.py). With a small L2 penalty the gap
    certifies the fit within ``alpha / 2 ||w_lp||^2 + tol P_0`` of the LP optimum."""
    X, y = _problem()
    ref = QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(X, y)
    best = _objective(X, y, ref.coef_, ref.intercept_, q, 0.0)
    assert _lp(X, y, q, 0.0) == pytest.approx(best, rel=1e-9)
    est = GDRegressor(loss="quantile", quantile=q, penalty=None, tol=1e-8, solver="gd")
    with pytest.warns(ConvergenceWarning, match="did not certify"):
        est.set_params(max_iter=50_000).fit(X, y)
    got = _objective(X, y, est.coef_, est.intercept_, q, 0.0)
    assert got >= best * (1 - 1e-12)
    alpha, tol = 1e-6, 1e-6
    est = _fit(q, penalty="l2", alpha=alpha, tol=tol).fit(X, y)
    got = _objective(X, y, est.coef_, est.intercept_, q, 0.0)
    p0 = _lp(X[:, :0], y, q, 0.0)
    assert best * (1 - 1e-12) <= got
    assert got <= best + 0.5 * alpha * (ref.coef_ @ ref.coef_) + tol * p0


def test_sample_weight_equals_repeated_rows_and_sklearn():
    X, y = _problem(n=80)
    rng = np.random.default_rng(3)
    sw = rng.integers(0, 4, size=y.shape[0]).astype(float)
    q, alpha = 0.7, 0.01
    ref = QuantileRegressor(quantile=q, alpha=alpha, solver="highs")
    ref.fit(X, y, sample_weight=sw)
    best = _objective(X, y, ref.coef_, ref.intercept_, q, alpha, sample_weight=sw)
    assert _lp(X, y, q, alpha, sample_weight=sw) == pytest.approx(best, rel=1e-9)
    est = _fit(q, penalty="l1", alpha=alpha).fit(X, y, sample_weight=sw)
    got = _objective(X, y, est.coef_, est.intercept_, q, alpha, sample_weight=sw)
    assert best <= got <= best * (1 + 1e-7)
    rep = np.repeat(np.arange(y.shape[0]), sw.astype(int))
    est_rep = _fit(q, penalty="l1", alpha=alpha).fit(X[rep], y[rep])
    got_rep = _objective(X, y, est_rep.coef_, est_rep.intercept_, q, alpha, 1.0, sw)
    assert got_rep == pytest.approx(got, rel=1e-8)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_equals_dense(fit_intercept):
    X, y = _problem()
    X[np.abs(X) < 1.0] = 0.0
    params = {"penalty": "l1", "alpha": 0.02, "fit_intercept": fit_intercept}
    dense = _fit(0.9, **params).fit(X, y)
    sparse = _fit(0.9, **params).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-9)
    if not fit_intercept:
        assert dense.intercept_ == 0.0


def test_float32():
    X, y = _problem()
    alpha, q = 0.02, 0.5
    best = _lp(X, y, q, alpha)
    est = GDRegressor(loss="quantile", penalty="l1", alpha=alpha, tol=1e-5)
    est.fit(X.astype(np.float32), y.astype(np.float32))
    assert est.coef_.dtype == np.float32
    assert est.predict(X.astype(np.float32)).dtype == np.float32
    got = _objective(X, y, est.coef_.astype(float), float(est.intercept_), q, alpha)
    assert best <= got <= best * (1 + 1e-4)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_stochastic_solvers_get_close(solver):
    X, y = _problem(n=600)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    q, alpha = 0.9, 0.01
    best = _lp(X, y, q, alpha)
    est = GDRegressor(loss="quantile", quantile=q, penalty="l1", alpha=alpha)
    est.set_params(solver=solver, max_iter=300, tol=None, random_state=0)
    est.fit(X, y)
    got = _objective(X, y, est.coef_, est.intercept_, q, alpha)
    assert best <= got <= best * 1.02
    # The fitted quantile: about a fraction q of the targets lie below it.
    assert np.mean(y <= est.predict(X)) == pytest.approx(q, abs=0.03)


# Every input kind runs the same iterations as numpy: a fixed number of "gd"
# iterations (tol=None) is compared iterate for iterate.
KINDS = {"loss": "quantile", "quantile": 0.8, "penalty": "l1", "alpha": 0.02}
FIXED = {"solver": "gd", "tol": None, "max_iter": 200}


@pytest.mark.dask
def test_dask_on_a_cluster_equals_numpy():
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    X, y = _problem()
    sw = np.linspace(0.5, 2.0, y.shape[0])
    ref = GDRegressor(**KINDS, **FIXED).fit(X, y, sample_weight=sw)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        Xd = da.from_array(X, chunks=(50, X.shape[1]))
        est = GDRegressor(**KINDS, **FIXED).fit(
            Xd, da.from_array(y, chunks=50), sample_weight=da.from_array(sw, chunks=50)
        )
        pred = est.predict(Xd).compute()
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(pred, ref.predict(X), rtol=1e-12, atol=1e-12)


@pytest.mark.array_api
@pytest.mark.parametrize("namespace", ["torch", "array_api_strict"])
def test_array_api_equals_numpy(namespace):
    import os

    import sklearn

    xp = pytest.importorskip(namespace)
    if os.environ.get("SCIPY_ARRAY_API") != "1":
        pytest.skip("SCIPY_ARRAY_API=1 is needed for array_api_dispatch")
    X, y = _problem()
    ref = GDRegressor(**KINDS, **FIXED).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = GDRegressor(**KINDS, **FIXED).fit(xp.asarray(X), xp.asarray(y))
        pred = est.predict(xp.asarray(X))
    assert type(pred) is type(xp.asarray(X))
    to_numpy = (lambda a: a.numpy()) if namespace == "torch" else np.asarray
    np.testing.assert_allclose(to_numpy(est.coef_), ref.coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(to_numpy(pred), ref.predict(X), rtol=1e-12)


def test_onnx_equals_predict():
    # The pinball loss has the identity link: the exported graph is X w + b.
    pytest.importorskip("skl2onnx")
    ort = pytest.importorskip("onnxruntime")
    from skl2onnx import to_onnx

    from skgd import register_onnx_converter

    register_onnx_converter()
    X, y = _problem()
    est = GDRegressor(**KINDS, **FIXED).fit(X, y)
    sess = ort.InferenceSession(
        to_onnx(est, X[:1]).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    got = sess.run(None, {sess.get_inputs()[0].name: X})[0]
    np.testing.assert_allclose(got.ravel(), est.predict(X), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_gets_close(solver):
    X, y = _problem(n=600)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    q, alpha = 0.9, 0.01
    best = _lp(X, y, q, alpha)
    est = GDRegressor(loss="quantile", quantile=q, penalty="l1", alpha=alpha)
    est.set_params(solver=solver, random_state=0)
    for _ in range(300):
        est.partial_fit(X, y)
    got = _objective(X, y, est.coef_, est.intercept_, q, alpha)
    assert best <= got <= best * 1.02
