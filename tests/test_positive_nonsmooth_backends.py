# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Quantile, hinge and epsilon-insensitive fits on Dask and Array API (torch) data.

The interior points fit these losses exactly on numpy and scipy.sparse data, and
on Dask where ``"gd"`` has no duality gap (no penalty, or a feature of penalty
weight 0); elsewhere the fits take the smoothings of ``"gd"``, stopped on the
duality gap of the true problem. Checked here, with
an L1 or L2 penalty, with and without ``positive=True``:

- at the default tol no ConvergenceWarning, ``dual_gap_`` within tol of the
  objective of the null model, and the objective within that gap of numpy's
  (the interior points' optimum), on a Dask LocalCluster and on torch;
- at a tight tol (torch) the coefficients equal numpy's;
- with a feature of penalty weight 0, or no penalty, the interior points
  certify the Dask fit too (``"gd"`` forms no gap of the true problem there).
"""

import os
import warnings

import numpy as np
import pytest
from _data import make_problem
from scipy.optimize import minimize_scalar
from sklearn.exceptions import ConvergenceWarning

from skgd import GDClassifier, GDRegressor

ALPHA, EPSILON, QUANTILE = 0.05, 0.5, 0.7
OPTIONS = [
    {"penalty": "l1"},
    {"penalty": "l1", "positive": True},
    {"penalty": "l2", "positive": True},
]
IDS = ["l1", "l1-positive", "l2-positive"]


def _problem(loss, n=100, p=5):
    X, y = make_problem(11, n, p)
    y = y - 2.0 * X[:, -1]  # a negative coefficient: positive=True is active
    if loss == "hinge":
        y = np.where(y > np.median(y), 1.0, -1.0)
    return X, y


def _unit(loss, y, raw):
    """The pointwise loss, in float64."""
    if loss == "hinge":
        return np.maximum(1.0 - y * raw, 0.0)
    r = y - raw
    if loss == "quantile":
        return np.maximum(QUANTILE * r, (QUANTILE - 1.0) * r)
    return np.maximum(np.abs(r) - EPSILON, 0.0)


def _objective(loss, X, y, coef, intercept, penalty):
    w = np.ravel(np.asarray(coef, dtype=np.float64))
    data = np.mean(_unit(loss, y, X @ w + float(np.ravel(intercept)[0])))
    if penalty == "l1":
        return data + ALPHA * np.abs(w).sum()
    return data + 0.5 * ALPHA * (w @ w)


def _null(loss, X, y):
    """The objective at zero coefficients and the starting intercept.

    The reference of ``tol``: the regressors start at the mean of ``y`` (the
    best constant of the squared loss, not of these), the classifier at the
    best constant model.
    """
    zero = np.zeros(X.shape[1])
    f = lambda b: _objective(loss, X, y, zero, b, "l1")
    if loss != "hinge":
        return f(np.mean(y))
    return minimize_scalar(f, bounds=(-2.0, 2.0), method="bounded").fun


def _estimator(loss, **params):
    if loss == "hinge":
        return GDClassifier(loss=loss, alpha=ALPHA, **params)
    extra = {"quantile": QUANTILE} if loss == "quantile" else {"epsilon": EPSILON}
    return GDRegressor(loss=loss, alpha=ALPHA, **extra, **params)


def _numpy(coef):
    coef = coef.numpy() if hasattr(coef, "numpy") else coef
    return np.asarray(coef, dtype=np.float64)


def _check_certified(loss, X, y, est, ref, penalty):
    """The default tol's claims: certified within tol, and numpy's optimum."""
    assert est.n_iter_ < est.max_iter
    coef, intercept = _numpy(est.coef_), _numpy(est.intercept_)
    if est.get_params().get("positive"):
        assert coef.min() >= 0.0
    gap, null = float(est.dual_gap_), _null(loss, X, y)
    # (Below 0 only by the rounding of the objective.)
    assert -1e-12 * null <= gap <= est.tol * null * (1 + 1e-9)
    value = _objective(loss, X, y, coef, intercept, penalty)
    best = _objective(loss, X, y, ref.coef_, ref.intercept_, penalty)
    assert best - 1e-9 * null <= value <= best + max(gap, 0.0) + 1e-9 * null


def _torch_fit(est, X, y):
    """Fit ``est`` on torch tensors, or skip where the Array API is off."""
    import sklearn

    torch = pytest.importorskip("torch")
    if os.environ.get("SCIPY_ARRAY_API") != "1":
        pytest.skip("SCIPY_ARRAY_API=1 is not set")
    with sklearn.config_context(array_api_dispatch=True):
        est.fit(torch.asarray(X), torch.asarray(y))
    assert isinstance(est.coef_, torch.Tensor)
    return est


@pytest.mark.slow  # (about 100 iterations of computes on the cluster: minutes)
@pytest.mark.dask
@pytest.mark.parametrize("options", OPTIONS[1:2], ids=IDS[1:2])
@pytest.mark.parametrize("loss", ["quantile"])
def test_dask_default_tol_is_certified_and_equals_numpy(client, loss, options):
    da = pytest.importorskip("dask.array")
    X, y = _problem(loss)
    ref = _estimator(loss, tol=1e-10, **options).fit(X, y)  # the interior points
    est = _estimator(loss, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(da.from_array(X, chunks=(25, 5)), da.from_array(y, chunks=25))
    _check_certified(loss, X, y, est, ref, options["penalty"])


@pytest.mark.array_api
@pytest.mark.parametrize("options", OPTIONS, ids=IDS)
@pytest.mark.parametrize("loss", ["quantile", "epsilon_insensitive", "hinge"])
def test_torch_default_tol_is_certified_and_equals_numpy(loss, options):
    X, y = _problem(loss)
    ref = _estimator(loss, tol=1e-10, **options).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = _torch_fit(_estimator(loss, **options), X, y)
    _check_certified(loss, X, y, est, ref, options["penalty"])


@pytest.mark.array_api
@pytest.mark.parametrize("options", OPTIONS[:2], ids=IDS[:2])
@pytest.mark.parametrize("loss", ["quantile", "epsilon_insensitive"])
def test_torch_tight_tol_equals_numpy(loss, options):
    X, y = _problem(loss, n=100)
    ref = _estimator(loss, tol=1e-12, **options).fit(X, y)
    kw = {"tol": 1e-7, "max_iter": 20_000}
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = _torch_fit(_estimator(loss, **kw, **options), X, y)
    _check_certified(loss, X, y, est, ref, options["penalty"])
    np.testing.assert_allclose(_numpy(est.coef_), ref.coef_, atol=1e-4)


@pytest.mark.dask
@pytest.mark.parametrize("loss", ["quantile"])
def test_dask_zero_weights_and_no_penalty_are_certified(client, loss):
    da = pytest.importorskip("dask.array")
    X, y = _problem(loss)
    Xd, yd = da.from_array(X, chunks=(25, 5)), da.from_array(y, chunks=25)
    weights = np.ones(X.shape[1])
    weights[0] = 0.0
    zero = {"penalty": "l1", "penalty_weights": weights, "positive": True}
    for options, c in [(zero, ALPHA * weights), ({"penalty": None}, 0.0 * weights)]:
        options = {"positive": True, **options}
        ref = _estimator(loss, **options).fit(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            est = _estimator(loss, **options).fit(Xd, yd)
        assert est.coef_.min() >= 0.0
        value, best = (
            np.mean(_unit(loss, y, X @ m.coef_ + np.ravel(m.intercept_)[0]))
            + c @ m.coef_
            for m in (est, ref)
        )
        # Both within tol of the optimum (dual_gap_ is another gap where a
        # weight is 0: it bounds the fit but need not meet tol).
        assert abs(value - best) <= est.tol * _null(loss, X, y)
