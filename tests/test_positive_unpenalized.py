# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""positive=True without a penalty strength: certified by the Lagrangian's decrement.

No duality gap exists there; the fits of the smooth losses with a Hessian stop
on :func:`~skgd.solvers._positive_decrement.positive_decrement`. Checked here,
for Poisson, Gamma, Tweedie (power 1.5), the squared loss, huber and the log
loss, dense and sparse, with sample weights, in float64 and float32:

- the default tol gives no ConvergenceWarning, and the objective is within tol
  of the optimum (relative to the objective of the null model);
- at a tight tol the KKT conditions hold in float64 (the gradient is 0 where
  ``w > 0``, non-negative where ``w = 0``) and the objective equals that of
  scipy's L-BFGS-B with bounds (scikit-learn's LinearRegression(positive=True)
  for the squared loss);
- a fit stopped by max_iter warns;
- the measure itself is 0 at the optimum and bounds the suboptimality;
- Dask and torch fits are certified too, and equal numpy's.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit, xlogy
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression

from skgd import GDClassifier, GDRegressor
from skgd._backend import get_backend
from skgd._objective import LinearObjective
from skgd.losses import PoissonDeviance
from skgd.penalties import L2, NoPenalty
from skgd.solvers._positive_decrement import positive_decrement

LOSSES = ["poisson", "gamma", "tweedie", "squared_error", "huber", "log_loss"]
HUBER_EPSILON = 1.0


def _problem(loss, n=300, p=8, seed=3):
    """Data whose unconstrained optimum has negative coefficients."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X[rng.random(size=X.shape) < 0.3] = 0.0  # (zeros for the sparse copy)
    coef = 0.1 + 0.3 * np.abs(rng.normal(size=p))
    coef[::3] = -0.3
    raw = X @ coef + 0.5
    if loss == "poisson" or loss == "tweedie":
        y = rng.poisson(np.exp(raw)).astype(float)
    elif loss == "gamma":
        y = rng.gamma(2.0, np.exp(raw) / 2.0)
    elif loss == "log_loss":
        y = np.where(rng.random(n) < expit(3.0 * raw), 1.0, -1.0)
    else:
        y = 3.0 * raw + rng.normal(size=n)
    return X, y, rng.uniform(0.5, 2.0, size=n)


def _unit(loss, y, raw):
    """The pointwise loss in float64 (the half deviances with their y terms)."""
    mu = np.exp(raw)
    if loss == "poisson":
        return xlogy(y, y / mu) - y + mu
    if loss == "gamma":
        return np.log(mu / y) + y / mu - 1.0
    if loss == "tweedie":
        p = 1.5
        return (
            np.maximum(y, 0) ** (2 - p) / ((1 - p) * (2 - p))
            - y * mu ** (1 - p) / (1 - p)
            + mu ** (2 - p) / (2 - p)
        )
    if loss == "log_loss":
        return np.logaddexp(0.0, -y * raw)
    r = raw - y
    if loss == "huber":
        a = np.abs(r)
        e = HUBER_EPSILON
        return np.where(a <= e, 0.5 * r * r, e * a - 0.5 * e * e)
    return 0.5 * r * r


def _derivative(loss, y, raw):
    """The derivative of :func:`_unit` in ``raw``, in float64."""
    mu = np.exp(raw)
    if loss == "poisson":
        return mu - y
    if loss == "gamma":
        return 1.0 - y / mu
    if loss == "tweedie":
        return mu**-0.5 * (mu - y)
    if loss == "log_loss":
        return -y * expit(-y * raw)
    r = raw - y
    return np.clip(r, -HUBER_EPSILON, HUBER_EPSILON) if loss == "huber" else r


def _objective(loss, X, y, sw, coef, intercept):
    """The weighted mean loss at ``(coef, intercept)``, in float64."""
    raw = np.asarray(X @ np.asarray(coef, dtype=np.float64)) + float(intercept)
    return float(np.sum(sw * _unit(loss, y, raw)) / sw.sum())


def _gradient(loss, X, y, sw, coef, intercept):
    """The gradient of :func:`_objective` in ``(coef, intercept)``."""
    raw = np.asarray(X @ np.asarray(coef, dtype=np.float64)) + float(intercept)
    d = sw * _derivative(loss, y, raw) / sw.sum()
    return np.asarray(X.T @ d), float(d.sum())


def _kkt(loss, X, y, sw, est):
    """Largest violation of the KKT conditions of ``w >= 0``, in float64."""
    w = np.asarray(est.coef_, dtype=np.float64).ravel()
    assert w.min() >= 0.0
    gw, gb = _gradient(loss, X, y, sw, w, np.ravel(est.intercept_)[0])
    on = w > 0
    return max(np.abs(gw[on]).max(initial=0.0), -gw[~on].min(initial=0.0), abs(gb))


def _reference(loss, X, y, sw):
    """Return the optimum (L-BFGS-B with bounds) and the null model's objective."""
    Xd = X.toarray() if sp.issparse(X) else X
    p = Xd.shape[1]
    if loss == "squared_error":
        ref = LinearRegression(positive=True).fit(Xd, y, sample_weight=sw)
        best = _objective(loss, Xd, y, sw, ref.coef_, ref.intercept_)
    else:

        def fun(x):
            value = _objective(loss, Xd, y, sw, x[:p], x[p])
            gw, gb = _gradient(loss, Xd, y, sw, x[:p], x[p])
            return value, np.append(gw, gb)

        bounds = [(0.0, None)] * p + [(None, None)]
        options = {"ftol": 0.0, "gtol": 1e-13, "maxiter": 100_000, "maxcor": 30}
        x0 = np.zeros(p + 1)
        kw = {"jac": True, "method": "L-BFGS-B", "bounds": bounds, "options": options}
        res = minimize(fun, x0, **kw)
        best = res.fun
    null = minimize(lambda b: _objective(loss, Xd, y, sw, np.zeros(p), b[0]), [0.0])
    return best, null.fun


def _estimator(loss, **params):
    if loss == "log_loss":
        return GDClassifier(loss=loss, positive=True, **params)
    extra = {"power": 1.5} if loss == "tweedie" else {}
    if loss == "huber":
        extra = {"epsilon": HUBER_EPSILON}
    return GDRegressor(loss=loss, positive=True, **extra, **params)


def _data(loss, kind, dtype):
    X, y, sw = _problem(loss)
    Xf = X.astype(dtype)
    Xf = sp.csr_matrix(Xf) if kind == "csr" else Xf
    return Xf, y, sw, X.astype(dtype).astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("penalty", [None, "l2"])
@pytest.mark.parametrize("loss", LOSSES)
def test_default_tol_certifies_within_tol(loss, penalty, kind, dtype):
    Xf, y, sw, X = _data(loss, kind, dtype)
    est = _estimator(loss, penalty=penalty, alpha=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(Xf, y, sample_weight=sw)
    assert est.n_iter_ < est.max_iter
    assert np.sum(est.coef_ == 0) >= 1, "the constraint must be active"
    best, null = _reference(loss, X, y, sw)
    value = _objective(loss, X, y, sw, est.coef_.ravel(), np.ravel(est.intercept_)[0])
    # Within tol of the optimum, relative to the null model's objective (and
    # float32's rounding of the predictions).
    slack = 1e-6 * null if dtype == np.float32 else 1e-12 * null
    assert value - best <= est.tol * null + slack


@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("loss", LOSSES)
def test_tight_tol_meets_kkt_and_the_reference(loss, kind):
    Xf, y, sw, X = _data(loss, kind, np.float64)
    est = _estimator(loss, penalty=None, tol=1e-16, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(Xf, y, sample_weight=sw)
    assert _kkt(loss, X, y, sw, est) < 1e-7
    best, _ = _reference(loss, X, y, sw)
    value = _objective(loss, X, y, sw, est.coef_.ravel(), np.ravel(est.intercept_)[0])
    assert value == pytest.approx(best, rel=1e-9, abs=1e-12)
    # (The reference is itself within its own tolerance of the optimum.)
    assert value <= best + 1e-12 * abs(best)


@pytest.mark.parametrize("loss", ["poisson", "gamma", "tweedie", "log_loss"])
def test_float32_meets_kkt(loss):
    Xf, y, sw, X = _data(loss, "dense", np.float32)
    est = _estimator(loss, penalty=None, tol=1e-8, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(Xf, y.astype(np.float32), sample_weight=sw.astype(np.float32))
    assert est.coef_.dtype == np.float32
    assert _kkt(loss, X, y, sw, est) < 1e-4


@pytest.mark.parametrize("loss", ["poisson", "gamma", "squared_error", "log_loss"])
def test_a_fit_stopped_by_max_iter_warns(loss):
    X, y, sw = _problem(loss)
    est = _estimator(loss, penalty=None, tol=1e-10, max_iter=2, solver="gd")
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y, sample_weight=sw)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_the_measure_is_zero_at_the_optimum_and_bounds_the_suboptimality(
    fit_intercept,
):
    X, y, sw = _problem("poisson")
    est = _estimator("poisson", penalty=None, tol=1e-14, max_iter=100_000)
    est.set_params(fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    backend = get_backend(X)
    problem = LinearObjective(
        backend,
        X,
        y,
        PoissonDeviance(),
        L2(0.0, positive=True),
        sample_weight=sw,
        fit_intercept=fit_intercept,
    )
    offset = problem.offset(est.coef_, est.intercept_)
    at_best = positive_decrement(problem, est.coef_, offset)
    f_best = _objective("poisson", X, y, sw, est.coef_, est.intercept_)
    assert 0.0 <= at_best <= 1e-14 * f_best
    # Away from it: twice the measure (DECREMENT_SHARE) bounds the excess.
    for scale in (0.9, 0.7):
        coef = scale * est.coef_
        offset = problem.offset(coef, est.intercept_)
        excess = _objective("poisson", X, y, sw, coef, problem.intercept(coef, offset))
        measure = positive_decrement(problem, coef, offset)
        assert 0.0 < excess - f_best <= 2.0 * measure
    # Without the constraint it does not apply.
    free = LinearObjective(backend, X, y, PoissonDeviance(), NoPenalty())
    assert positive_decrement(free, est.coef_, 0.0) is None


@pytest.mark.dask
def test_dask_is_certified_and_equals_numpy():
    da = pytest.importorskip("dask.array")
    import dask

    X, y, sw = _problem("poisson")
    ref = _estimator("poisson", penalty=None).fit(X, y, sample_weight=sw)
    chunks = {"chunks": 100}
    Xd, yd, swd = (da.from_array(a, **chunks) for a in (X, y, sw))
    with warnings.catch_warnings(), dask.config.set(scheduler="synchronous"):
        warnings.simplefilter("error", ConvergenceWarning)
        est = _estimator("poisson", penalty=None).fit(Xd, yd, sample_weight=swd)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-9, atol=1e-12)
    assert est.n_iter_ == ref.n_iter_


@pytest.mark.array_api
def test_torch_is_certified_and_equals_numpy():
    import os

    import sklearn

    torch = pytest.importorskip("torch")
    if os.environ.get("SCIPY_ARRAY_API") != "1":
        pytest.skip("SCIPY_ARRAY_API=1 is not set")
    X, y, sw = _problem("gamma")
    ref = _estimator("gamma", penalty=None).fit(X, y, sample_weight=sw)
    with warnings.catch_warnings(), sklearn.config_context(array_api_dispatch=True):
        warnings.simplefilter("error", ConvergenceWarning)
        est = _estimator("gamma", penalty=None)
        est.fit(*(torch.asarray(a) for a in (X, y)), sample_weight=torch.asarray(sw))
    assert isinstance(est.coef_, torch.Tensor)
    np.testing.assert_allclose(est.coef_.numpy(), ref.coef_, rtol=1e-9, atol=1e-12)
