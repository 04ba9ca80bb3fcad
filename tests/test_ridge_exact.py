# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Ridge and penalty-free squared loss on sparse and on wide X, solved exactly.

Sparse X with at least as many rows as columns is solved on its Gram matrix (a
sparse product), X with fewer rows than columns on its kernel (``n x n``): at the
default ``tol`` the coefficients equal scikit-learn's ``Ridge(alpha * n_samples)``
(the objective here is the mean squared error, Ridge's the sum) and
``LinearRegression`` at rtol 1e-8, in one iteration.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression, Ridge

from skgd import GDRegressor
from skgd._ridge import KERNEL_MAX_SAMPLES

RTOL = 1e-8


def _diabetes():
    X, y = load_diabetes(return_X_y=True)
    return np.where(np.abs(X) < 0.03, 0.0, X), y  # half the entries zero


def _wide(n_samples=30, n_features=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)) * np.logspace(-1, 1, n_features)
    X[np.abs(X) < 0.3] = 0.0
    return X + 2.0 * (X != 0), rng.standard_normal(n_samples)


def _rank_deficient():
    """One-hot columns (they sum to 1) and a duplicated column."""
    rng = np.random.default_rng(0)
    levels = rng.integers(0, 4, size=200)
    Z = rng.standard_normal((200, 3))
    X = np.hstack([np.eye(4)[levels], Z, Z[:, :1]])
    y = X @ np.arange(8.0) + 3.0 + rng.standard_normal(200)
    return X, y


def _cases():
    X, y = _diabetes()
    weights = np.random.default_rng(1).uniform(0.0, 3.0, X.shape[0])
    X_w, y_w = _wide()
    w_w = np.linspace(0.5, 2.0, X_w.shape[0])
    X_r, y_r = _rank_deficient()
    yield "csr", sp.csr_matrix(X), y, None
    yield "csc_weights", sp.csc_matrix(X), y, weights
    yield "csr_2d_y", sp.csr_matrix(X), np.c_[y, np.sqrt(y)], None
    yield "csr_rank_deficient", sp.csr_matrix(X_r), y_r, None
    yield "wide", X_w, y_w, None
    yield "wide_weights", X_w, y_w, w_w
    yield "wide_2d_y", X_w, np.c_[y_w, y_w**2], None
    yield "wide_csr", sp.csr_matrix(X_w), y_w, None
    yield "wide_csc_weights", sp.csc_matrix(X_w), y_w, w_w
    # Wide and rank-deficient: the rows of the one-hot design, repeated columns.
    yield "wide_rank_deficient", np.hstack([X_r[:40]] * 3), y_r[:40], None


CASES = {name: case for name, *case in _cases()}


def _dense(X):
    return X.toarray() if sp.issparse(X) else X


def _fit(X, y, sample_weight, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return GDRegressor(**params).fit(X, y, sample_weight=sample_weight)


def _assert_equal(est, ref):
    scale = np.abs(ref.coef_).max()
    assert_allclose(est.coef_, ref.coef_, rtol=RTOL, atol=1e-12 * scale)
    assert_allclose(est.intercept_, ref.intercept_, rtol=RTOL, atol=1e-12 * scale)
    assert est.n_iter_ == 1
    assert len(est.loss_curve_) == 1


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [1e-3, 1.0])
@pytest.mark.parametrize("name", list(CASES))
def test_ridge_equals_ridge(name, alpha, fit_intercept):
    X, y, sample_weight = CASES[name]
    est = _fit(X, y, sample_weight, alpha=alpha, fit_intercept=fit_intercept)
    n = X.shape[0]
    # Ridge sums the weighted squared errors; GDRegressor takes their weighted mean.
    sw = None if sample_weight is None else sample_weight * n / sample_weight.sum()
    ref = Ridge(alpha=alpha * n, fit_intercept=fit_intercept, solver="cholesky")
    _assert_equal(est, ref.fit(_dense(X), y, sample_weight=sw))
    assert np.all(np.asarray(est.dual_gap_) >= 0.0)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("name", list(CASES))
def test_no_penalty_equals_linear_regression(name, fit_intercept):
    """Without a penalty, the minimum-norm solution (rank-deficient X included)."""
    X, y, sample_weight = CASES[name]
    est = _fit(X, y, sample_weight, penalty=None, fit_intercept=fit_intercept)
    ref = LinearRegression(fit_intercept=fit_intercept, tol=1e-12)
    _assert_equal(est, ref.fit(_dense(X), y, sample_weight=sample_weight))


@pytest.mark.parametrize("kind", ["sparse", "wide", "wide_sparse"])
def test_float32(kind):
    """float32 in, float32 out, one iteration, near the float64 solution."""
    X, y = _diabetes() if kind == "sparse" else _wide()
    X32 = X.astype(np.float32)
    X32 = sp.csr_matrix(X32) if kind != "wide" else X32
    est = _fit(X32, y.astype(np.float32), None, alpha=1e-3)
    ref = Ridge(alpha=1e-3 * X.shape[0], solver="cholesky").fit(X, y)
    assert est.coef_.dtype == np.float32
    assert est.n_iter_ == 1
    assert_allclose(
        est.coef_, ref.coef_, rtol=1e-4, atol=1e-4 * np.abs(ref.coef_).max()
    )


def test_sparse_x_is_not_densified(monkeypatch):
    """The sparse routes never call ``toarray`` on X itself (only on products)."""
    (X, y), (X_w, y_w) = _diabetes(), _wide()
    inputs = [(sp.csr_matrix(X), y), (sp.csr_matrix(X_w), y_w)]
    ids = {id(X_s) for X_s, _ in inputs}
    original = sp.csr_matrix.toarray

    def toarray(self, *args, **kwargs):
        assert id(self) not in ids, "X was densified"
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sp.csr_matrix, "toarray", toarray)
    for X_s, target in inputs:
        assert _fit(X_s, target, None, alpha=1e-2).n_iter_ == 1


def test_positive_stays_iterative():
    """``positive=True`` has no closed form: it iterates to its own optimum."""
    X, y = _wide()
    est = GDRegressor(alpha=1e-2, positive=True).fit(X, y)
    assert est.n_iter_ > 1
    assert np.all(est.coef_ >= 0)


def test_wide_beyond_the_kernel_limit_iterates(monkeypatch):
    """More rows than the kernel's limit: the iterative route, as before."""
    monkeypatch.setattr("skgd._ridge.KERNEL_MAX_SAMPLES", 10)
    X, y = _wide()
    assert X.shape[0] > 10 < KERNEL_MAX_SAMPLES
    est = GDRegressor(alpha=1e-1).fit(X, y)
    assert est.n_iter_ > 1


@pytest.mark.parametrize("namespace", ["array_api_strict", "torch"])
def test_wide_array_api(namespace):
    """Wide X of another namespace: the kernel in the namespace's own linalg."""
    import sklearn

    xp = pytest.importorskip(namespace)
    X, y = _wide()
    sample_weight = np.linspace(0.5, 2.0, X.shape[0])
    sw = sample_weight * X.shape[0] / sample_weight.sum()
    ref = Ridge(alpha=1e-3 * X.shape[0], solver="cholesky").fit(X, y, sample_weight=sw)
    try:
        with sklearn.config_context(array_api_dispatch=True):
            est = _fit(
                xp.asarray(X), xp.asarray(y), xp.asarray(sample_weight), alpha=1e-3
            )
    except RuntimeError as exc:  # sklearn's check without SCIPY_ARRAY_API=1
        pytest.skip(str(exc))
    assert est.n_iter_ == 1
    coef = np.asarray(est.coef_.cpu() if hasattr(est.coef_, "cpu") else est.coef_)
    assert_allclose(coef, ref.coef_, rtol=RTOL, atol=1e-12 * np.abs(ref.coef_).max())


def test_sparse_product_beyond_its_cost_iterates(monkeypatch):
    """A sparse product dearer than the passes it saves: the iterative route."""
    monkeypatch.setattr("skgd._ridge._SPARSE_PRODUCT_MAX_PASSES", 0)
    X, y = _diabetes()
    est = GDRegressor(alpha=1e-3).fit(sp.csr_matrix(X), y)
    assert est.n_iter_ > 1
