# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The Gram (quadratic-form) path of the full-batch solver equals the X path, sklearn.

The duality gap is quadratic in the coefficient error, so coefficient-level agreement
needs tolerances of 1e-15 or below on ill-conditioned data such as diabetes.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, Ridge
from sklearn.preprocessing import StandardScaler

# This file tests a private seam: the Gram form of the objective and the planner.
import skgd._planner as planner
from skgd import GDRegressor
from skgd._backend import get_backend
from skgd._gram import gram_form
from skgd._objective import LinearObjective
from skgd.losses import SquaredError
from skgd.penalties import L1L2


def _diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _generated(seed=0, n=200, p=15):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * 10.0 ** rng.uniform(-1, 1, p)
    X += rng.uniform(-5, 5, p)
    w = rng.standard_normal(p)
    w[: p // 3] = 0.0
    y = X @ w + 2.0 + 0.3 * rng.standard_normal(n)
    return X, y


def _fit(X, y, gram, monkeypatch, **kw):
    """Fit with the Gram path forced on (``gram=True``) or off."""
    with monkeypatch.context() as m:
        if not gram:
            m.setattr(planner, "gram_applies", lambda objective: False)
        return GDRegressor(max_iter=100_000, **kw).fit(X, y)


PENALTIES = [
    ({"penalty": "l1", "alpha": 0.1}, lambda a, n: Lasso(alpha=a, tol=1e-14)),
    (
        {"penalty": "elasticnet", "alpha": 0.1, "l1_ratio": 0.5},
        lambda a, n: ElasticNet(alpha=a, l1_ratio=0.5, tol=1e-14),
    ),
    ({"penalty": "l2", "alpha": 0.1}, lambda a, n: Ridge(alpha=a * n)),
    ({"penalty": None}, lambda a, n: LinearRegression()),
]


def test_gram_prefer_rule():
    X, y = _generated()
    backend = get_backend(X)
    obj = LinearObjective(backend, X, y, SquaredError(), L1L2(0.1, 0.5))
    assert planner.choose_form(obj) == "gram"
    gram = planner.planned(obj)
    assert gram.form == "gram"
    assert not gram.per_sample
    assert planner.planned(gram) is gram
    assert planner.choose_form(gram, "path", 1) == "gram"
    wide = LinearObjective(backend, X[:10], y[:10], SquaredError(), L1L2(0.1, 0.5))
    assert planner.choose_form(wide) == "samples"
    Xs = sp.csr_matrix(X)
    sparse = LinearObjective(get_backend(Xs), Xs, y, SquaredError(), L1L2(0.1, 0.5))
    assert planner.choose_form(sparse) == "samples"
    # A path amortises the matrix over its alphas; working sets build it when small.
    assert planner.choose_form(obj, "path", 1) == "gram"  # 15 features < 150
    assert planner.choose_form(obj, "working_set") == "gram"


def test_gram_planner_thresholds():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 300))
    y = rng.standard_normal(400)
    obj = LinearObjective(get_backend(X), X, y, SquaredError(), L1L2(0.1, 1.0))
    assert planner.choose_form(obj) == "gram"
    assert planner.choose_form(obj, "working_set") == "samples"  # 300 > 256
    assert planner.choose_form(obj, "path", 2) == "samples"  # 300 >= 150 * 2
    assert planner.choose_form(obj, "path", 3) == "gram"


@pytest.mark.parametrize("data", ["diabetes", "generated"])
@pytest.mark.parametrize(("params", "make_ref"), PENALTIES)
def test_gram_matches_x_path_and_sklearn(data, params, make_ref, monkeypatch):
    X, y = _diabetes() if data == "diabetes" else _generated()
    # No penalty: the stopping measure is a squared gradient mapping, not a gap.
    tol = {"l1": 1e-15, None: 1e-24}.get(params.get("penalty"), 1e-16)
    fast = _fit(X, y, True, monkeypatch, tol=tol, **params)
    plain = _fit(X, y, False, monkeypatch, tol=tol, **params)
    ref = make_ref(params.get("alpha", 0.0), X.shape[0]).fit(X, y)
    scale = np.max(np.abs(ref.coef_))
    np.testing.assert_allclose(fast.coef_, plain.coef_, rtol=1e-7, atol=1e-7 * scale)
    np.testing.assert_allclose(fast.coef_, ref.coef_, rtol=1e-6, atol=1e-6 * scale)
    np.testing.assert_allclose(fast.intercept_, ref.intercept_, rtol=1e-6)
    if params.get("penalty") == "l1":
        np.testing.assert_array_equal(fast.coef_ == 0, ref.coef_ == 0)


def test_gram_objective_values_match(monkeypatch):
    """Objective, gradient and duality gap of the Gram form equal the X form's."""
    X, y = _generated(1)
    backend = get_backend(X)
    obj = LinearObjective(backend, X, y, SquaredError(), L1L2(0.05, 0.7))
    gram = gram_form(obj)
    w = np.random.default_rng(0).standard_normal(X.shape[1])
    c = obj.initial_offset()
    raw_x, raw_g = obj.raw(w, c), gram.raw(w, c)
    gx, gg = obj.gradient(raw_x)[1], gram.gradient(raw_g)[1]
    np.testing.assert_allclose(gg, gx, rtol=1e-10, atol=1e-10 * np.abs(gx).max())
    np.testing.assert_allclose(gram.value(w, raw_g), obj.value(w, raw_x), rtol=1e-12)
    np.testing.assert_allclose(gram.zero_value(), obj.zero_value(), rtol=1e-12)
    np.testing.assert_allclose(
        gram.duality_gap(w, raw_g, gg), obj.duality_gap(w, raw_x, gx), rtol=1e-9
    )
    np.testing.assert_allclose(gram.metric(), obj.metric(), rtol=1e-12)


def test_gram_sample_weight_and_multitarget(monkeypatch):
    X, y = _generated(2)
    rng = np.random.default_rng(0)
    sw = rng.uniform(0.5, 2.0, X.shape[0])
    Y = np.column_stack([y, -2 * y + 1])
    kw = {"penalty": "elasticnet", "alpha": 0.05, "l1_ratio": 0.3, "tol": 1e-15}
    with monkeypatch.context() as m:
        m.setattr(planner, "gram_applies", lambda objective: False)
        plain = GDRegressor(**kw).fit(X, Y, sample_weight=sw)
    fast = GDRegressor(**kw).fit(X, Y, sample_weight=sw)
    ref = ElasticNet(alpha=0.05, l1_ratio=0.3, tol=1e-14).fit(X, Y, sample_weight=sw)
    np.testing.assert_allclose(fast.coef_, plain.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(fast.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fast.intercept_, ref.intercept_, rtol=1e-6)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gram_sparse_equals_dense(fit_intercept):
    """Sparse input keeps the X path and agrees with the dense Gram path."""
    X, y = _generated(3)
    kw = {"penalty": "l1", "alpha": 0.05, "tol": 1e-12, "fit_intercept": fit_intercept}
    kw["max_iter"] = 100_000
    dense = GDRegressor(**kw).fit(X, y)
    sparse = GDRegressor(**kw).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(dense.coef_, sparse.coef_, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(dense.intercept_, sparse.intercept_, rtol=1e-7)


def test_gram_float32_kept_and_no_copy():
    X, y = _generated(4)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    before = X32.copy()
    reg = GDRegressor(penalty="l2", alpha=0.01, tol=1e-6).fit(X32, y32)
    assert reg.coef_.dtype == np.float32
    assert reg.predict(X32).dtype == np.float32
    np.testing.assert_array_equal(X32, before)
    ref = Ridge(alpha=0.01 * X.shape[0]).fit(X, y)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=1e-3, atol=1e-3)


def test_gram_constant_column_stays_zero():
    X, y = _generated(5)
    X[:, 2] = 7.0
    reg = GDRegressor(penalty="l2", alpha=0.01, tol=1e-20).fit(X, y)
    assert reg.coef_[2] == 0.0
    ref = Ridge(alpha=0.01 * X.shape[0]).fit(X, y)
    np.testing.assert_allclose(reg.coef_, ref.coef_, rtol=1e-6, atol=1e-10)
