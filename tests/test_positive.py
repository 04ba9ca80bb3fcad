# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""positive=True: the constraint w >= 0 for every loss, solver and input kind.

(Dask and the Array API: tests/test_penalty_weights.py, for both options.)

The squared loss is checked against scikit-learn's positive Lasso, ElasticNet and
LinearRegression (scipy's NNLS); the other losses, and the L2 penalty, against the
KKT conditions of the constrained problem computed here in float64.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _data import TIGHT_TOL, make_problem
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LinearRegression,
    enet_path,
)

from skgd import GDClassifier, GDRegressor, GDRegressorCV, gd_path
from skgd.penalties import L1, L1L2, L2, NoPenalty, Penalty, get_penalty
from skgd.testing import check_penalty


def _problem(seed=0, n_samples=80, n_features=12):
    # A truth with negative coefficients: the constraint is active somewhere.
    X, y = make_problem(seed, n_samples, n_features)
    return X, y - 2.0 * X[:, -1]


def _reference(penalty, alpha, fit_intercept):
    kw = {"fit_intercept": fit_intercept, "positive": True}
    if penalty == "l1":
        return Lasso(alpha=alpha, tol=1e-15, max_iter=1_000_000, **kw)
    if penalty == "elasticnet":
        return ElasticNet(alpha=alpha, l1_ratio=0.5, tol=1e-15, max_iter=10**6, **kw)
    return LinearRegression(**kw)


def _kkt(X, y, coef, intercept, grad_loss, l1, l2, s=None):
    """Return the KKT residuals of the positive problem, in float64.

    ``grad_loss(y, f)`` is the derivative of the loss in the prediction ``f``. At
    the optimum: ``g_j + l1 + l2 w_j = 0`` where ``w_j > 0``, ``g_j + l1 >= 0``
    where ``w_j = 0`` (``g`` the gradient of the mean data term) and the
    intercept's derivative vanishes.
    """
    X, coef = np.asarray(X, dtype=np.float64), np.asarray(coef, dtype=np.float64)
    s = np.ones(len(y)) if s is None else s
    d = s * grad_loss(y, X @ coef + intercept) / s.sum()
    g = X.T @ d
    on = coef > 0
    stationarity = np.abs(g[on] + l1 + l2 * coef[on]).max(initial=0.0)
    sign = max(-(g[~on] + l1).min(initial=0.0), 0.0)
    return stationarity, sign, abs(d.sum())


@pytest.mark.parametrize("penalty", ["l1", "elasticnet", None])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_positive_matches_sklearn(penalty, fit_intercept):
    X, y = _problem()
    alpha = 0.1 if penalty else 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = _reference(penalty, alpha, fit_intercept).fit(X, y)
    est = GDRegressor(
        penalty=penalty,
        alpha=alpha,
        l1_ratio=0.5,
        positive=True,
        fit_intercept=fit_intercept,
        solver="gd",
        tol=TIGHT_TOL[penalty],
        max_iter=100_000,
    ).fit(X, y)
    assert est.coef_.min() == 0.0  # exact zeros where the constraint is active
    assert np.sum(ref.coef_ == 0) >= 1
    np.testing.assert_array_equal(est.coef_ == 0, ref.coef_ == 0)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-7, atol=1e-9)
    assert float(est.intercept_) == pytest.approx(float(ref.intercept_), abs=1e-8)


def test_positive_nnls_matches_scipy_nnls():
    from scipy.optimize import nnls

    X, y = _problem(1)
    est = GDRegressor(
        penalty=None, positive=True, fit_intercept=False, tol=1e-22, max_iter=10**5
    ).fit(X, y)
    np.testing.assert_allclose(est.coef_, nnls(X, y)[0], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    ("loss", "penalty"),
    [
        ("squared_error", "l2"),
        ("huber", "l1"),
        ("huber", "elasticnet"),
        ("squared_epsilon_insensitive", "l2"),
    ],
)
def test_positive_kkt_other_losses(loss, penalty):
    X, y = _problem(2)
    alpha, rho = 0.05, {"l1": 1.0, "elasticnet": 0.5, "l2": 0.0}[penalty]
    s = np.linspace(0.5, 2.0, len(y))
    est = GDRegressor(
        loss=loss,
        penalty=penalty,
        alpha=alpha,
        l1_ratio=rho,
        epsilon=1.0,
        positive=True,
        solver="gd",
        tol=1e-13,
        max_iter=100_000,
    ).fit(X, y, sample_weight=s)
    assert est.coef_.min() == 0.0
    assert est.coef_.max() > 0.0

    def grad(y, f):
        r = f - y
        if loss == "huber":
            return np.clip(r, -1.0, 1.0)
        if loss == "squared_epsilon_insensitive":
            return 2.0 * np.sign(r) * np.maximum(np.abs(r) - 1.0, 0.0)
        return r

    kkt = _kkt(X, y, est.coef_, est.intercept_, grad, alpha * rho, alpha * (1 - rho), s)
    np.testing.assert_allclose(kkt, 0.0, atol=1e-6)


@pytest.mark.parametrize("solver", ["gd", "auto"])
@pytest.mark.parametrize("penalty", ["l1", "l2"])
def test_positive_classifier_kkt(solver, penalty):
    X, y = _problem(3)
    labels = (y > np.median(y)).astype(int)
    alpha = 0.01
    clf = GDClassifier(
        penalty=penalty, alpha=alpha, positive=True, solver=solver, tol=1e-13
    ).fit(X, labels)
    coef = clf.coef_.ravel()
    assert coef.min() == 0.0
    assert coef.max() > 0.0
    l1, l2 = (alpha, 0.0) if penalty == "l1" else (0.0, alpha)
    kkt = _kkt(X, labels, coef, clf.intercept_[0], lambda t, f: expit(f) - t, l1, l2)
    np.testing.assert_allclose(kkt, 0.0, atol=1e-7)


def test_positive_inputs_sparse_float32_and_sample_weight():
    X, y = _problem(4)
    s = np.linspace(0.2, 3.0, len(y))
    ref = Lasso(alpha=0.05, positive=True, tol=1e-15, max_iter=10**6).fit(
        X, y, sample_weight=s
    )
    kw = {"penalty": "l1", "alpha": 0.05, "positive": True, "max_iter": 100_000}
    dense = GDRegressor(tol=1e-12, **kw).fit(X, y, sample_weight=s)
    sparse = GDRegressor(tol=1e-12, **kw).fit(sp.csr_matrix(X), y, sample_weight=s)
    single = GDRegressor(tol=1e-6, **kw).fit(X.astype(np.float32), y, sample_weight=s)
    np.testing.assert_allclose(dense.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-12)
    assert single.coef_.dtype == np.float32
    assert single.coef_.min() >= 0
    np.testing.assert_allclose(single.coef_, ref.coef_, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_positive_stochastic_solvers_project_every_step(solver):
    X, y = _problem(5, 400)
    X = (X - X.mean(0)) / X.std(0)
    kw = {"penalty": "l1", "alpha": 0.01, "positive": True, "solver": solver}
    est = GDRegressor(random_state=0, max_iter=200, tol=None, **kw)
    # A start outside the constraint is projected first.
    est.fit(X, y, coef_init=-np.ones(X.shape[1]))
    ref = Lasso(alpha=0.01, positive=True, tol=1e-12, max_iter=10**5).fit(X, y)
    assert est.coef_.min() >= 0.0
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=0.05)
    part = GDRegressor(random_state=0, **kw)
    for _ in range(3):
        part.partial_fit(X, y)
        assert part.coef_.min() >= 0.0


def test_positive_path_and_cv_match_sklearn():
    X, y = _problem(6)
    alphas, coefs, _ = gd_path(
        X, y, l1_ratio=1.0, alphas=8, positive=True, tol=1e-13, max_iter=10**5
    )
    Xc, yc = X - X.mean(0), y - y.mean()
    ref_alphas, ref_coefs, _ = enet_path(
        Xc, yc, l1_ratio=1.0, alphas=8, positive=True, tol=1e-15, max_iter=10**6
    )
    # alpha_max is the largest positive correlation, not the largest in modulus.
    assert alphas[0] == pytest.approx(np.max(Xc.T @ yc) / len(y), rel=1e-12)
    assert alphas[0] < np.max(np.abs(Xc.T @ yc)) / len(y)
    np.testing.assert_allclose(alphas, ref_alphas, rtol=1e-12)
    np.testing.assert_allclose(coefs, ref_coefs, rtol=1e-7, atol=1e-9)
    cv = GDRegressorCV(l1_ratio=1.0, alphas=8, positive=True, tol=1e-13, cv=3)
    cv.fit(X, y)
    ref = ElasticNetCV(
        l1_ratio=1.0, alphas=8, positive=True, tol=1e-15, max_iter=10**6, cv=3
    ).fit(X, y)
    assert cv.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(cv.mse_path_, ref.mse_path_, rtol=1e-7)
    assert cv.coef_.min() == 0.0


@pytest.mark.parametrize(
    "penalty",
    [L1(0.3, positive=True), L2(0.3, positive=True), L1L2(0.3, 0.4, positive=True)],
    ids=repr,
)
def test_positive_penalty_contract(penalty):
    check_penalty(penalty, solvers=("gd", "sgd", "adam"))


def test_positive_conjugate_is_one_sided():
    # sup over w >= 0 of v w - (l1 w + l2 w^2 / 2) = max(v - l1, 0)^2 / (2 l2).
    v = np.array([-3.0, 0.2, 1.5])
    pen = L1L2(1.0, 0.5, positive=True)  # l1 = l2 = 0.5
    assert pen.conjugate(v) == pytest.approx(1.0**2 / (2 * 0.5))
    assert L1L2(1.0, 0.5).conjugate(v) == pytest.approx((2.5**2 + 1.0**2) / 1.0)
    # Pure L1: the dual box is one-sided, so only v's positive part is scaled.
    assert L1(0.5, positive=True).dual_scale(v) == pytest.approx(0.5 / 1.5)
    below = np.array([-30.0, 0.2, 0.5])  # far below -l1: feasible all the same
    assert L1(0.5, positive=True).dual_scale(below) == 1.0
    assert L1(0.5, positive=True).conjugate(below) == 0.0
    assert np.isinf(L1(0.5).conjugate(below))
    assert np.isinf(float(L1(0.5, positive=True).value(np.array([-1.0, 1.0]))))
    assert NoPenalty(positive=True).dual_scale(v) is None


def test_positive_errors():
    class Custom(Penalty):
        def value(self, w):
            return 0.0 * w.sum()

        def prox(self, v, step):
            return v

    with pytest.raises(ValueError, match="built-in penalties only"):
        get_penalty(Custom(), positive=True)
    X, y = _problem()
    with pytest.raises(ValueError, match="built-in penalties only"):
        GDRegressor(penalty=Custom(), positive=True).fit(X, y)


def test_user_guide_section_runs():
    import doctest
    from pathlib import Path

    guide = Path(__file__).parents[1] / "docs" / "user_guide.rst"
    if not guide.exists():
        pytest.skip("docs/user_guide.rst is not available")
    text = guide.read_text()
    start = text.index("Positive coefficients and per-feature penalty weights\n~~~")
    end = text.index("\n~~~", text.index("\n~~~", start) + 4)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    test = doctest.DocTestParser().get_doctest(text[start:end], {}, "guide", None, 0)
    assert len(test.examples) >= 8
    assert runner.run(test).failed == 0
