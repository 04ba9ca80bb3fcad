# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""positive=True on the squared loss's fast routes: working sets and Gram descent.

The constrained lasso and elastic net declare their shape
(``elastic_net_shape() == (l1, l2, True)``), and the working sets and the Gram
coordinate descent fit them with one-sided optimality conditions. Checked against
scikit-learn's ``Lasso(positive=True)``, ``ElasticNet(positive=True)`` and
``enet_path(positive=True)``, and against the KKT conditions of the constrained
problem computed here in float64; and that the fast route is the one taken.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from _data import TIGHT_TOL
from scipy.special import expit
from sklearn.linear_model import ElasticNet, Lasso, enet_path

# This file tests a private seam: which route solve_gd takes.
import skgd._path as path_module
import skgd.solvers._gd as gd_module
import skgd.solvers._gram_enet as gram_module
from skgd import GDClassifier, GDRegressor, gd_path
from skgd._backend import get_backend
from skgd._objective import LinearObjective
from skgd.losses import Huber, LogLoss, SquaredError
from skgd.penalties import L1, L1L2, L2
from skgd.solvers._gd import solve_gd
from skgd.solvers._routing import full_batch_solver
from skgd.solvers._working_set import working_set_mode

# (n_samples, n_features): the Gram form with all features as one subproblem, the
# Gram form with working sets, and a wide X (checks by passes over X).
SHAPES = [(150, 40), (300, 150), (80, 400)]


def _design(seed, n_samples, n_features):
    """Correlated, offset X; a truth with negative coefficients (the sign binds)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    X[:, 1:] = 0.7 * X[:, :-1] + 0.7 * X[:, 1:]
    X += rng.uniform(-2, 2, n_features)
    w = np.zeros(n_features)
    w[:12] = rng.normal(scale=2.0, size=12)
    y = X @ w + 1.0 + 0.5 * rng.standard_normal(n_samples)
    return X, y


def _sparsify(X, seed):
    """Return X with about 60% of its entries zeroed, as CSR."""
    rng = np.random.default_rng(seed)
    return sp.csr_matrix(np.where(rng.random(X.shape) < 0.6, 0.0, X))


def _kkt(X, y, coef, intercept, l1, l2, grad_loss=lambda y, f: f - y):
    """Return the largest KKT residual of the positive elastic net, in float64.

    ``grad_loss(y, f)``: the derivative of the loss in the prediction (the squared
    loss's by default).
    """
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    g = X.T @ grad_loss(y, X @ coef + intercept) / len(y)
    on = coef > 0
    stationarity = np.abs(g[on] + l1 + l2 * coef[on]).max(initial=0.0)
    sign = max(-(g[~on] + l1).min(initial=0.0), 0.0)
    return max(stationarity, sign, float(np.abs(coef[coef < 0]).max(initial=0.0)))


def _reference(penalty, alpha, X, y):
    kw = {"alpha": alpha, "positive": True, "tol": 1e-15, "max_iter": 10**6}
    if penalty == "elasticnet":
        return ElasticNet(l1_ratio=0.5, **kw).fit(X, y)
    return Lasso(**kw).fit(X, y)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_positive_fast_matches_sklearn(penalty, kind, shape):
    X, y = _design(sum(shape), *shape)
    Xk = X if kind == "dense" else _sparsify(X, 1)
    # On the wide X a support that fits the sparse Gram budget (about sqrt(nnz)
    # columns; beyond, subproblems are passes over the gathered columns).
    alpha = 0.3 if shape[1] > shape[0] else 0.1
    ref = _reference(penalty, alpha, Xk, y)
    ours = GDRegressor(
        penalty=penalty,
        alpha=alpha,
        l1_ratio=0.5,
        positive=True,
        tol=TIGHT_TOL[penalty],
        max_iter=10**5,
    ).fit(Xk, y)
    # The constraint binds: the unconstrained fit has negative coefficients.
    assert np.sum(ref.coef_ == 0) > 0
    assert ours.coef_.min() == 0.0
    scale = np.max(np.abs(ref.coef_))
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-7, atol=1e-9 * scale)
    assert ours.intercept_ == pytest.approx(ref.intercept_, rel=1e-7, abs=1e-9)
    l1 = alpha if penalty == "l1" else 0.5 * alpha
    assert _kkt(Xk, y, ours.coef_, ours.intercept_, l1, alpha - l1) < 1e-8 * scale
    # The fast routes: a few subproblems (the generic proximal gradient needed
    # thousands of iterations here).
    assert ours.n_iter_ < 200


@pytest.mark.parametrize(
    ("shape", "mode"), [((300, 150), "gram"), ((80, 400), "samples")], ids=str
)
def test_positive_takes_working_sets_and_compiled_descent(shape, mode, monkeypatch):
    X, y = _design(3, *shape)
    penalty = L1L2(alpha=0.1, l1_ratio=0.5, positive=True)
    assert penalty.elastic_net_shape() == (0.05, 0.05, True)
    # What other solvers read is unchanged: the plain elastic net's weights only.
    assert penalty.elastic_net_weights() is None
    objective = LinearObjective(get_backend(X), X, y, SquaredError(), penalty)
    assert working_set_mode(objective) == mode
    flags = []
    compiled = gram_module.enet_coordinate_descent_gram

    def recording(*args):
        flags.append(args[10])
        return compiled(*args)

    monkeypatch.setattr(gram_module, "enet_coordinate_descent_gram", recording)
    res = solve_gd(objective, np.zeros(shape[1]), 0.0, max_iter=10**4, tol=1e-10)
    assert res.converged
    assert res.coef.min() == 0.0
    n_support = int(np.sum(res.coef > 0))
    assert 0 < max(res.extra["working_set_sizes"]) <= 2 * n_support + 16
    assert flags
    assert set(flags) == {1}
    ref = _reference("elasticnet", 0.1, X, y)
    np.testing.assert_allclose(res.coef, ref.coef_, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_positive_proximal_gradient_fallback_projects(penalty, monkeypatch):
    # Without the compiled loop the subproblems run accelerated proximal gradient
    # with exact solves on the support: its prox, its support guesses and its gap
    # are one-sided too.
    monkeypatch.setattr(gram_module, "enet_coordinate_descent_gram", None)
    X, y = _design(4, 300, 150)
    ref = _reference(penalty, 0.1, X, y)
    ours = GDRegressor(
        penalty=penalty, alpha=0.1, l1_ratio=0.5, positive=True, tol=TIGHT_TOL[penalty]
    ).fit(X, y)
    scale = np.max(np.abs(ref.coef_))
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-7, atol=1e-9 * scale)
    assert ours.n_iter_ < 200


@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_positive_path_matches_enet_path(l1_ratio, kind):
    X, y = _design(5, 60, 300)
    Xk = X if kind == "dense" else _sparsify(X, 2)
    found = []
    solve = path_module.solve_working_set

    def counting(*args, **kwargs):
        found.append(1)
        return solve(*args, **kwargs)

    tol = TIGHT_TOL["l1" if l1_ratio == 1.0 else "elasticnet"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(path_module, "solve_working_set", counting)
        alphas, coefs, intercepts = gd_path(
            Xk, y, l1_ratio=l1_ratio, alphas=10, eps=1e-2, positive=True, tol=tol
        )
    assert len(found) == 10
    assert coefs.min() == 0.0
    X64 = Xk.toarray() if kind == "csr" else X
    Xc, yc = X64 - X64.mean(0), y - y.mean()
    ref_alphas, ref_coefs, _ = enet_path(
        Xc,
        yc,
        l1_ratio=l1_ratio,
        alphas=10,
        eps=1e-2,
        positive=True,
        tol=1e-15,
        max_iter=10**6,
    )
    np.testing.assert_allclose(alphas, ref_alphas, rtol=1e-12)
    scale = np.max(np.abs(ref_coefs))
    np.testing.assert_allclose(coefs, ref_coefs, rtol=1e-6, atol=1e-8 * scale)


def test_positive_ridge_and_unpenalized_keep_their_routes():
    # No L1 part: no working sets, and the closed forms (which do not know the
    # constraint) stay off.
    for penalty in (L2(0.1, positive=True), L1L2(0.1, 0.0, positive=True)):
        assert penalty.elastic_net_weights() is None
        X, y = _design(6, 100, 80)
        objective = LinearObjective(get_backend(X), X, y, SquaredError(), penalty)
        assert working_set_mode(objective) is None
    assert L1(0.1).elastic_net_shape() == (0.1, 0.0, False)


@pytest.mark.parametrize("kind", ["dense", "csr"])
@pytest.mark.parametrize("loss", ["huber", "log_loss"])
def test_positive_working_sets_other_smooth_losses(loss, kind, monkeypatch):
    # Other smooth losses with a gap take the working sets too (subproblems by the
    # plain solver on the gathered columns, whose prox projects).
    X, y = _design(8, 120, 300)
    Xk = X if kind == "dense" else _sparsify(X, 3)
    sizes = []
    solve = gd_module.solve_working_set

    def recording(*args, **kwargs):
        res = solve(*args, **kwargs)
        sizes.append(max(res.extra["working_set_sizes"], default=0))
        return res

    monkeypatch.setattr(gd_module, "solve_working_set", recording)
    kw = {"penalty": "l1", "positive": True, "solver": "gd", "tol": 1e-12}
    if loss == "huber":
        est = GDRegressor(loss="huber", alpha=0.05, epsilon=1.0, **kw).fit(Xk, y)
        coef, intercept = est.coef_, est.intercept_
        grad = lambda t, f: np.clip(f - t, -1.0, 1.0)
        target, alpha = y, 0.05
    else:
        target, alpha = (y > np.median(y)).astype(float), 0.01
        est = GDClassifier(alpha=alpha, **kw).fit(Xk, target)
        coef, intercept = est.coef_.ravel(), est.intercept_[0]
        grad = lambda t, f: expit(f) - t
    assert coef.min() == 0.0
    assert coef.max() > 0.0
    assert sizes
    assert 0 < sizes[0] < 300
    assert _kkt(Xk, target, coef, intercept, alpha, 0.0, grad) < 1e-7


@pytest.mark.parametrize("loss", ["log_loss", "huber"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_positive_newton_l1_model(loss, l1_ratio):
    # Newton's L1 model is solved by the Gram coordinate descent, which keeps
    # w >= 0: the constrained lasso and elastic net of smooth losses take Newton
    # steps; without an L1 part (its ridge step ignores the sign) they do not.
    X, y = _design(9, 400, 60)
    alpha = 0.01 if loss == "log_loss" else 0.05
    if loss == "log_loss":
        y = (y > np.median(y)).astype(float)
        data_loss = LogLoss()
        grad = lambda t, f: expit(f) - t
    else:
        data_loss = Huber(epsilon=1.0)
        grad = lambda t, f: np.clip(f - t, -1.0, 1.0)
    penalty = L1L2(alpha=alpha, l1_ratio=l1_ratio, positive=True)
    objective = LinearObjective(get_backend(X), X, y, data_loss, penalty)
    assert full_batch_solver(objective, "auto")[0] == "newton"
    ridge = LinearObjective(
        get_backend(X), X, y, data_loss, L2(alpha=alpha, positive=True)
    )
    assert full_batch_solver(ridge, "newton")[0] == "gd"
    kw = {"alpha": alpha, "l1_ratio": l1_ratio, "positive": True, "tol": 1e-12}
    if loss == "log_loss":
        est = GDClassifier(penalty="elasticnet", solver="newton", **kw).fit(X, y)
        coef, intercept = est.coef_.ravel(), est.intercept_[0]
    else:
        est = GDRegressor(
            loss="huber", epsilon=1.0, penalty="elasticnet", solver="newton", **kw
        ).fit(X, y)
        coef, intercept = est.coef_, est.intercept_
    assert coef.min() == 0.0
    assert coef.max() > 0.0
    assert est.n_iter_ < 30
    l1 = alpha * l1_ratio
    assert _kkt(X, y, coef, intercept, l1, alpha - l1, grad) < 1e-9
