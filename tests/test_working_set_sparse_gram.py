# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Working sets on sparse X: Gram subproblems from sparse-times-sparse products.

The set's Gram matrix is built from the sparse gathered columns and centered
afterwards, so coordinate descent solves the subproblems as on dense X: the same
optimum as the dense fit and as scikit-learn's, and X is never densified.
"""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from _data import TIGHT_TOL
from sklearn.linear_model import ElasticNet, Lasso

# A private seam: which subproblem solver the sparse working sets run.
import skgd.solvers._working_set as ws_module
from skgd import GDRegressor, gd_path


def _sparse_problem(n_samples=300, n_features=2000, density=0.02, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(
        n_samples, n_features, density=density, random_state=seed, format="csr"
    )
    X = X.multiply(10.0 ** rng.uniform(-1, 1, n_features)).tocsr()
    w = np.zeros(n_features)
    idx = rng.choice(n_features, 10, replace=False)
    w[idx] = rng.normal(scale=10.0, size=10)
    y = X @ w + 1.0 + 0.1 * rng.standard_normal(n_samples)
    return X, y


def _alpha(X, y, fraction):
    Xd = X.toarray()
    return fraction * np.max(np.abs((Xd - Xd.mean(0)).T @ (y - y.mean()))) / len(y)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_gram_working_set_equals_dense_and_sklearn(penalty, fmt, weighted):
    X, y = _sparse_problem()
    alpha = _alpha(X, y, 0.2)
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y)) if weighted else None
    kw = {"alpha": alpha, "tol": TIGHT_TOL[penalty], "max_iter": 10**5}
    ref_kw = {"alpha": alpha, "tol": 1e-14, "max_iter": 10**6}
    if penalty == "elasticnet":
        kw["l1_ratio"] = ref_kw["l1_ratio"] = 0.5
        ref = ElasticNet(**ref_kw)
    else:
        ref = Lasso(**ref_kw)
    ref.fit(X.toarray(), y, sample_weight=sw)
    sparse = GDRegressor(penalty=penalty, **kw)
    sparse.fit(X.asformat(fmt), y, sample_weight=sw)
    dense = GDRegressor(penalty=penalty, **kw).fit(X.toarray(), y, sample_weight=sw)
    scale = np.max(np.abs(ref.coef_))
    for est in (sparse, dense):
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-8, atol=1e-10 * scale)
        assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-8, abs=1e-10)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-11 * scale)
    if penalty == "l1":
        np.testing.assert_array_equal(sparse.coef_ == 0, ref.coef_ == 0)
    # Coordinate descent on the set's Gram matrix needs a handful of subproblems
    # (the proximal gradient on the gathered columns took tens of iterations).
    assert sparse.n_iter_ <= 10


def test_sparse_gram_working_set_never_densifies_x(monkeypatch):
    X, y = _sparse_problem(n_samples=2000, n_features=4000, density=0.005)
    alpha = _alpha(X, y, 0.3)
    seen = []
    gram = ws_module._SampleSpace._sparse_gram

    def spy(self, x_mean):
        gram(self, x_mean)
        seen.append(self.gram[0].shape[0])

    monkeypatch.setattr(ws_module._SampleSpace, "_sparse_gram", spy)
    GDRegressor(penalty="l1", alpha=alpha, tol=1e-8).fit(X, y)  # warm the imports
    tracemalloc.start()
    est = GDRegressor(penalty="l1", alpha=alpha, tol=1e-8).fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seen
    assert max(seen) < X.shape[1] // 4
    dense_bytes = X.shape[0] * X.shape[1] * 8
    # A few vectors and the set's Gram matrix: far below a dense copy of X (64 MB).
    assert peak < dense_bytes / 8
    ref = Lasso(alpha=alpha, tol=1e-12, max_iter=10**6).fit(X.toarray(), y)
    scale = np.max(np.abs(ref.coef_))
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-5, atol=1e-7 * scale)


def test_sparse_gram_path_equals_dense_path():
    X, y = _sparse_problem(seed=2)
    tol = TIGHT_TOL["elasticnet"]
    kw = {"l1_ratio": 0.7, "alphas": 15, "eps": 1e-2, "tol": tol, "max_iter": 10**5}
    alphas, coefs, intercepts = gd_path(X, y, **kw)
    _, coefs_d, intercepts_d = gd_path(X.toarray(), y, **kw)
    scale = np.max(np.abs(coefs_d))
    np.testing.assert_allclose(coefs, coefs_d, rtol=1e-8, atol=1e-10 * scale)
    np.testing.assert_allclose(intercepts, intercepts_d, rtol=1e-8, atol=1e-10)
    ref = ElasticNet(alpha=alphas[-1], l1_ratio=0.7, tol=1e-14, max_iter=10**6)
    ref.fit(X.toarray(), y)
    np.testing.assert_allclose(
        coefs[:, -1], ref.coef_, rtol=1e-8, atol=1e-10 * np.max(np.abs(ref.coef_))
    )


def test_sparse_set_beyond_its_gram_budget_goes_on_without_it(monkeypatch):
    # A set whose Gram matrix would outgrow X's nonzeros goes on with the
    # proximal gradient on the gathered columns: the same certified optimum.
    X, y = _sparse_problem(n_samples=150, n_features=400, density=0.03, seed=3)
    alpha = _alpha(X, y, 0.01)
    sizes = []
    gram = ws_module._SampleSpace._sparse_gram

    def spy(self, x_mean):
        gram(self, x_mean)
        sizes.append(self.gram[0].shape[0])

    monkeypatch.setattr(ws_module._SampleSpace, "_sparse_gram", spy)
    # A first set whose Gram matrix fits the budget (42 columns here), so that a
    # later one outgrows it.
    monkeypatch.setattr(ws_module, "_FIRST_SIZE", 32)
    tol = TIGHT_TOL["l1"]
    est = GDRegressor(penalty="l1", alpha=alpha, tol=tol, max_iter=10**6).fit(X, y)
    ref = Lasso(alpha=alpha, tol=1e-14, max_iter=10**6).fit(X.toarray(), y)
    assert np.sum(ref.coef_ != 0) ** 2 > X.nnz
    assert sizes
    assert max(sizes) ** 2 <= X.nnz
    scale = np.max(np.abs(ref.coef_))
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6, atol=1e-8 * scale)
    assert est.intercept_ == pytest.approx(ref.intercept_, rel=1e-6, abs=1e-8)
