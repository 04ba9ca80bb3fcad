# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _data import make_problem
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

# This file tests a private seam: solve_lbfgs on a LinearObjective, built as the
# estimators build theirs, and the route of the estimators' solver="auto" to it.
from skgd import GDClassifier
from skgd._backend import get_backend
from skgd._objective import LinearObjective
from skgd.losses import Hinge, Huber, LogLoss, MultinomialLogLoss, SquaredError
from skgd.penalties import L1, L1L2, L2, NoPenalty
from skgd.solvers._gd import solve_gd
from skgd.solvers._lbfgs import lbfgs_applies, solve_lbfgs
from skgd.solvers._routing import full_batch_solver


def objective_of(X, y, loss, penalty, *, sample_weight=None, fit_intercept=True):
    """The objective of one target, as the estimators' full-batch fit builds it."""
    dtype = X.dtype
    return LinearObjective(
        get_backend(X),
        X,
        np.asarray(y, dtype=dtype),
        loss,
        penalty,
        sample_weight=None if sample_weight is None else sample_weight.astype(dtype),
        fit_intercept=fit_intercept,
    )


def solve(solver, objective, tol, max_iter=10_000, **kw):
    w0 = np.zeros(objective.coef_shape, dtype=objective.dtype)
    return solver(
        objective,
        w0,
        objective.initial_offset(),
        max_iter=max_iter,
        tol=tol,
        **kw,
    )


def value_at(objective, res):
    """The objective at a result's coefficients and offset."""
    return objective.value(res.coef, objective.raw(res.coef, res.extra["offset"]))


def assert_both_within(objective, ours, theirs, tol):
    """Assert two results certified within ``tol`` agree as far as that allows.

    Both objectives are within ``tol * ref`` of the optimum; the L2 term makes the
    objective ``l2``-strongly convex in ``w``, so each ``w`` is within
    ``sqrt(2 tol ref / l2)`` of the solution's.
    """
    bound = tol * objective.reference_value()
    assert abs(value_at(objective, ours) - value_at(objective, theirs)) <= bound
    radius = np.sqrt(2.0 * bound / objective.penalty.l2)
    assert np.linalg.norm(ours.coef - theirs.coef) <= 2.0 * radius


def classes_problem(seed, n_samples=300, n_features=8, n_classes=4):
    X, y = make_problem(seed, n_samples, n_features)
    y = np.digitize(y, np.quantile(y, np.linspace(0, 1, n_classes + 1)[1:-1]))
    return X, y


def binary_problem(seed, n_samples=200, n_features=8):
    X, y = make_problem(seed, n_samples, n_features, noise=3.0)
    return X, np.where(y > np.median(y), 1.0, -1.0)


def test_lbfgs_applies_to_smooth_losses_with_l2_or_no_penalty():
    X, y = binary_problem(0)
    assert lbfgs_applies(objective_of(X, y, LogLoss(), L2(0.1)))
    assert lbfgs_applies(objective_of(X, y, LogLoss(), NoPenalty()))
    assert lbfgs_applies(objective_of(X, y, Huber(1.0), L1L2(0.1, 0.0)))
    # An L1 part, certified by the duality gap (see the L1 tests below).
    assert lbfgs_applies(objective_of(X, y, LogLoss(), L1(0.1)))
    assert lbfgs_applies(objective_of(X, y, LogLoss(), L1L2(0.1, 0.5)))
    assert not lbfgs_applies(objective_of(X, y, Hinge(), L2(0.1)))
    with pytest.raises(ValueError, match="smooth loss"):
        solve(solve_lbfgs, objective_of(X, y, Hinge(), L1(0.1)), 1e-4)


@pytest.mark.parametrize("kind", ["dense", "sparse", "weights"])
def test_lbfgs_multinomial_l2_matches_logistic_regression(kind):
    X, y = classes_problem(0)
    n, alpha = X.shape[0], 1e-2
    sw = None
    if kind == "weights":
        sw = np.random.default_rng(0).uniform(0.5, 2.0, n)
    if kind == "sparse":
        X = sp.csr_array(np.where(np.abs(X) > 3.0, X, 0.0))
    objective = objective_of(X, y, MultinomialLogLoss(n_classes=4), L2(alpha))
    if sw is not None:
        objective = objective_of(
            X, y, MultinomialLogLoss(n_classes=4), L2(alpha), sample_weight=sw
        )
    res = solve(solve_lbfgs, objective, 1e-10)
    assert res.converged
    assert res.extra["certified"]
    assert res.extra["measure"] <= 1e-10
    assert len(res.objective_curve) == res.n_iter
    # sklearn's objective is sum_i s_i L_i + ||w||^2 / (2 C); ours the weighted mean
    # plus alpha / 2 ||w||^2. (Its newton-cholesky solver is the accurate one: its
    # lbfgs stops on the objective's rounding, 2e-6 away here.)
    scale = n if sw is None else sw.sum()
    lr = LogisticRegression(
        C=1.0 / (alpha * scale), tol=1e-12, max_iter=1_000, solver="newton-cholesky"
    )
    lr.fit(X, y, sample_weight=sw)
    # The softmax is invariant to a shift of all the classes' intercepts.
    b = res.intercept - res.intercept.mean()
    np.testing.assert_allclose(res.coef.T, lr.coef_, atol=1e-6)
    # (The intercepts b = c - x_mean @ w carry the offsets of the features: 3.)
    np.testing.assert_allclose(b, lr.intercept_ - lr.intercept_.mean(), atol=1e-5)


@pytest.mark.parametrize("loss", [LogLoss(), Huber(1.0)], ids=["log", "huber"])
@pytest.mark.parametrize("kind", ["dense", "sparse", "weights", "no_intercept"])
def test_lbfgs_matches_the_first_order_solver(loss, kind):
    X, y = binary_problem(1) if isinstance(loss, LogLoss) else make_problem(1, 200, 8)
    if isinstance(loss, Huber):
        y[:10] += 20.0  # outliers: the linear part of the loss is active
    if kind == "sparse":
        X = sp.csr_array(np.where(np.abs(X) > 2.5, X, 0.0))
    sw = np.random.default_rng(1).uniform(0.2, 3.0, len(y))
    kw = {
        "sample_weight": sw if kind == "weights" else None,
        "fit_intercept": kind != "no_intercept",
    }
    objective = objective_of(X, y, loss, L2(0.01), **kw)
    ours = solve(solve_lbfgs, objective, 1e-12)
    theirs = solve(solve_gd, objective, 1e-12)
    assert ours.converged
    assert theirs.converged
    assert_both_within(objective, ours, theirs, 1e-12)
    np.testing.assert_allclose(ours.coef, theirs.coef, rtol=1e-4, atol=1e-5)
    # Far fewer passes over X than the first-order solver.
    assert ours.extra["n_evaluations"] < theirs.n_iter


def test_lbfgs_float32_keeps_the_dtype_and_converges():
    X, y = classes_problem(2)
    X32 = X.astype(np.float32)
    loss = MultinomialLogLoss(n_classes=4)
    res32 = solve(solve_lbfgs, objective_of(X32, y, loss, L2(0.01)), 1e-6)
    res64 = solve(solve_lbfgs, objective_of(X, y, loss, L2(0.01)), 1e-12)
    assert res32.coef.dtype == np.float32
    assert res32.intercept.dtype == np.float32
    assert res32.converged
    np.testing.assert_allclose(res32.coef, res64.coef, rtol=1e-3, atol=1e-3)


def test_lbfgs_without_penalty_is_not_certified_but_reaches_the_optimum():
    X, y = binary_problem(3)
    objective = objective_of(X, y, LogLoss(), NoPenalty())
    res = solve(solve_lbfgs, objective, 1e-14)
    # No duality gap without a penalty: the solver says so, and the estimator
    # would warn; the optimum is reached all the same.
    assert not res.converged
    assert not res.extra["certified"]
    lr = LogisticRegression(C=np.inf, tol=1e-12, solver="newton-cholesky")
    lr.fit(X, y)
    np.testing.assert_allclose(res.coef, lr.coef_[0], rtol=1e-5)
    np.testing.assert_allclose(res.intercept, lr.intercept_[0], rtol=1e-5)


def scaled_correlated(seed, rho):
    rng = np.random.default_rng(seed)
    p = 10
    cov = rho ** np.abs(np.subtract.outer(np.arange(p), np.arange(p)))
    X = rng.multivariate_normal(np.zeros(p), cov, size=400)
    y = np.where(X @ rng.normal(size=p) + rng.normal(size=400) > 0, 1.0, -1.0)
    return X * np.logspace(-3, 3, p), y


@pytest.mark.parametrize("rho", [0.0, 0.99])
@pytest.mark.parametrize("tol", [1e-4, 1e-8])
def test_lbfgs_claimed_convergence_is_within_tol(rho, tol):
    # Columns scaled from 1e-3 to 1e3, correlated or not: the metric makes the
    # problem scale-free, and the gap certifies what the run claims.
    X, y = scaled_correlated(4, rho)
    objective = objective_of(X, y, LogLoss(), L2(1e-3))
    res = solve(solve_lbfgs, objective, tol)
    best = solve(solve_lbfgs, objective, 1e-15)
    assert res.converged
    value = objective.value(res.coef, objective.raw(res.coef, res.extra["offset"]))
    sub = value - best.objective_curve[-1]
    assert sub <= tol * objective.reference_value()
    assert res.objective_curve[-1] == pytest.approx(value, rel=1e-14)


def test_lbfgs_max_iter_warm_start_and_callback(capsys):
    X, y = classes_problem(5)
    objective = objective_of(X, y, MultinomialLogLoss(n_classes=4), L2(1e-3))
    seen = []
    res = solve(
        solve_lbfgs,
        objective,
        1e-12,
        max_iter=3,
        verbose=1,
        callback=lambda it, w, value: seen.append((it, value)),
    )
    assert res.n_iter == 3
    assert not res.converged
    assert [it for it, _ in seen] == [1, 2, 3]
    assert [v for _, v in seen] == res.objective_curve
    assert capsys.readouterr().out.count("[lbfgs] iter") == 3
    done = solve(solve_lbfgs, objective, 1e-10)
    # Started at a solution that meets tol: no iteration.
    again = solve_lbfgs(
        objective,
        done.coef,
        done.extra["offset"],
        max_iter=100,
        tol=1e-10,
    )
    assert again.n_iter == 0
    assert again.converged
    assert again.objective_curve == []
    np.testing.assert_allclose(again.coef, done.coef, rtol=1e-15)


def test_lbfgs_squared_error_keeps_the_closed_form_offset():
    X, y = make_problem(6, 100, 6)
    objective = objective_of(X, y, SquaredError(), L2(0.1))
    res = solve(solve_lbfgs, objective, 1e-14)
    theirs = solve(solve_gd, objective, 1e-14)
    assert res.converged
    assert_both_within(objective, res, theirs, 1e-14)


def test_lbfgs_routed_under_the_classifier():
    # solver="auto" takes L-BFGS for the multinomial loss: the same optimum as
    # "gd" in fewer iterations.
    X, y = classes_problem(7, n_classes=3)
    est = GDClassifier(alpha=1e-3, tol=1e-12, max_iter=5_000, solver="gd")
    reference = est.fit(X, y).coef_.copy()
    objective = objective_of(X, y, MultinomialLogLoss(n_classes=3), L2(1e-3))
    assert full_batch_solver(objective, "auto")[0] == "lbfgs"
    ours = GDClassifier(alpha=1e-3, tol=1e-12, max_iter=5_000).fit(X, y)
    assert ours.n_iter_ < est.n_iter_
    np.testing.assert_allclose(ours.coef_, reference, atol=1e-6)


def test_lbfgs_routed_on_wide_dense_smooth_losses(monkeypatch, capsys):
    # Wider than Newton pays for (as if 6 features were many), "auto" fits a
    # dense penalized smooth loss of one output by L-BFGS: the optimum of "gd".
    from skgd.losses import get_loss
    from skgd.solvers import _routing

    monkeypatch.setattr(_routing, "NEWTON_MAX_FEATURES", 5)
    X, y = binary_problem(3, n_features=6)
    name = lambda objective, solver="auto": full_batch_solver(objective, solver)[0]
    assert name(objective_of(X, y, LogLoss(), L2(1e-3))) == "lbfgs"
    assert name(objective_of(X, y, Huber(1.0), L2(1e-3))) == "lbfgs"
    assert name(objective_of(X, y, LogLoss(), L2(1e-3)), "newton") == "newton"
    # Sparse data, no penalty (nothing certifies L-BFGS), a deviance (no
    # curvature bound) or fewer rows than columns: "gd".
    assert name(objective_of(sp.csr_array(X), y, LogLoss(), L2(1e-3))) == "gd"
    assert name(objective_of(X, y, LogLoss(), NoPenalty())) == "gd"
    assert name(objective_of(X, y + 2.0, get_loss("poisson"), L2(1e-3))) == "gd"
    assert name(objective_of(X[:5], y[:5], LogLoss(), L2(1e-3))) == "gd"
    kw = dict(alpha=1e-3, tol=1e-12, max_iter=10_000)
    reference = GDClassifier(solver="gd", **kw).fit(X, y)
    capsys.readouterr()
    ours = GDClassifier(verbose=1, **kw).fit(X, y)
    assert "[lbfgs]" in capsys.readouterr().out
    np.testing.assert_allclose(ours.coef_, reference.coef_, atol=1e-6)


@pytest.mark.parametrize("penalty", [L2(1e-2), L1L2(0.5, 1e-2)], ids=["l2", "enet"])
def test_lbfgs_on_dask_matches_numpy(penalty):
    da = pytest.importorskip("dask.array")
    X, y = classes_problem(8)
    loss = MultinomialLogLoss(n_classes=4)
    Xd = da.from_array(X, chunks=(100, 8))
    yd = da.from_array(y.astype(float), chunks=100)
    objective = LinearObjective(get_backend(Xd), Xd, yd, loss, penalty)
    res = solve(solve_lbfgs, objective, 1e-10)
    ref = solve(solve_lbfgs, objective_of(X, y, loss, penalty), 1e-10)
    assert res.converged
    np.testing.assert_allclose(res.coef, ref.coef, atol=1e-7)


def test_lbfgs_on_dask_computes_once_per_evaluation(monkeypatch):
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    X, y = classes_problem(9)
    Xd = da.from_array(X, chunks=(100, 8))
    yd = da.from_array(y.astype(float), chunks=100)
    objective = LinearObjective(
        get_backend(Xd), Xd, yd, MultinomialLogLoss(n_classes=4), L2(1e-2)
    )
    # The column statistics and the multinomial dual's anchor: once per fit.
    solve(solve_lbfgs, objective, 0.0, max_iter=1)
    calls = []
    original = dask.compute

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(dask, "compute", counted)
    counts = []
    for max_iter in (3, 8):
        calls.clear()
        # tol=0: no gap is ever due, so every compute is an evaluation's pass
        # (the start's gap aside, the same in both runs).
        res = solve(solve_lbfgs, objective, 0.0, max_iter=max_iter)
        assert res.n_iter == max_iter
        counts.append((len(calls), res.extra["n_evaluations"]))
    (c3, e3), (c8, e8) = counts
    assert c8 - c3 == e8 - e3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_multinomial_loss_gradient_is_pointwise_and_gradient_at_once(dtype):
    rng = np.random.default_rng(3)
    raw = (rng.standard_normal((50, 4)) * 30.0).astype(dtype)  # far-off logits
    y = rng.integers(0, 4, 50).astype(dtype)
    loss = MultinomialLogLoss(n_classes=4)
    values, grad = loss.loss_gradient(y, raw)
    assert values.dtype == grad.dtype == dtype
    # In float64 against a direct evaluation: log-sum-exp and softmax.
    r = raw.astype(np.float64)
    top = r.max(axis=1, keepdims=True)
    lse = top[:, 0] + np.log(np.exp(r - top).sum(axis=1))
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    labels = y.astype(int)
    # (A difference of logits of size 100: its rounding is absolute.)
    expected_values = lse - r[np.arange(50), labels]
    np.testing.assert_allclose(values, expected_values, rtol=rtol, atol=100 * rtol)
    expected = np.exp(r - lse[:, None])
    expected[np.arange(50), labels] -= 1.0
    np.testing.assert_allclose(grad, expected, atol=10 * rtol)
    np.testing.assert_array_equal(values, loss.pointwise(y, raw))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_gradient_is_the_weighted_loss_and_gradient(dtype):
    """The pass's in-place softmax: the loss's values and ``u`` times its gradient."""
    from skgd._backend._row_pass import softmax_gradient

    rng = np.random.default_rng(4)
    raw = (rng.standard_normal((60, 5)) * 30.0).astype(dtype)  # far-off logits
    y = rng.integers(0, 5, 60)
    u = rng.uniform(0.0, 2.0, 60).astype(dtype)
    u[:3] = 0.0
    loss = MultinomialLogLoss(n_classes=5)
    values, g = np.empty(60, dtype=dtype), np.empty((60, 5), dtype=dtype)
    out = softmax_gradient(raw, y, u, values, g)
    assert out is g
    assert values.dtype == g.dtype == dtype
    expected_values, expected_grad = loss.loss_gradient(y.astype(dtype), raw)
    rtol = 1e-13 if dtype == np.float64 else 1e-5
    # (Differences of logits of size 100: their rounding is absolute.)
    np.testing.assert_allclose(values, expected_values, rtol=rtol, atol=100 * rtol)
    np.testing.assert_allclose(g, u[:, None] * expected_grad, atol=10 * rtol)
    assert not g[:3].any()  # rows of weight 0
    # The rows' gradients sum to zero, as u * (softmax - onehot) does.
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=10 * rtol)


@pytest.mark.parametrize("order", ["C", "F"])
def test_row_pass_is_both_products(order):
    """Both products of X by blocks of rows: ``X @ w + shift`` and ``X.T @ g``."""
    from skgd._backend._row_pass import pass_blocks, row_pass

    rng = np.random.default_rng(5)
    X = np.asarray(rng.standard_normal((2_500, 40)), order=order)
    w = rng.standard_normal((40, 3))
    shift = np.array([1.0, -2.0, 0.5])
    blocks = pass_blocks(X, 3)
    assert len(blocks) == 2  # 1,638 rows of 40 in 512 kB

    def tanh(rows, r):
        return np.tanh(r)

    raw, product = row_pass(X, w, shift, tanh, blocks)
    np.testing.assert_allclose(raw, X @ w + shift, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(product, X.T @ np.tanh(raw), rtol=1e-10, atol=1e-10)
    raw0, product0 = row_pass(X, 0 * w, shift, tanh, blocks, zero=True)
    assert np.all(raw0 == shift)
    np.testing.assert_allclose(product0, X.T @ np.tanh(raw0), rtol=1e-10, atol=1e-10)
    assert pass_blocks(sp.csr_array(X), 3) is None
    assert pass_blocks(X[:100], 3) is None  # (one block)


@pytest.mark.parametrize(
    "kind", ["dense", "sparse", "weights", "no_intercept", "blocks", "blocks_fortran"]
)
def test_lbfgs_fused_evaluation_equals_the_pass(monkeypatch, kind):
    """One softmax per evaluation, the gap from its gradient: the same run.

    The ``blocks`` kinds pass over X in blocks of 64 rows, the two products of
    each while it is in the cache.
    """
    from skgd._backend import _row_pass
    from skgd.solvers import _lbfgs

    X, y = classes_problem(2)
    sw = np.random.default_rng(2).uniform(0.2, 3.0, len(y))
    if kind == "sparse":
        X = sp.csr_array(np.where(np.abs(X) > 3.0, X, 0.0))
    if kind.startswith("blocks"):
        monkeypatch.setattr(_row_pass, "_BLOCK_ELEMENTS", 64 * X.shape[1])
        assert len(_row_pass.pass_blocks(X, 4)) == 5
    if kind == "blocks_fortran":
        X = np.asfortranarray(X)
    objective = objective_of(
        X,
        y,
        MultinomialLogLoss(n_classes=4),
        L2(1e-3),
        sample_weight=sw if kind == "weights" else None,
        fit_intercept=kind != "no_intercept",
    )
    assert _lbfgs._fuses(objective)
    point = np.random.default_rng(3).standard_normal(objective.coef_shape)

    def evaluate(fuse):
        run = _lbfgs._Run(objective, tol=1e-10, verbose=0, callback=None)
        run.fused = fuse
        ev = run.evaluate(run.pack(point, np.arange(4.0)), dual_terms=True)
        return ev, run.gap(ev)

    (fused, fused_gap), (passed, passed_gap) = evaluate(True), evaluate(False)
    assert "raw_grad" in fused.terms
    assert "raw_grad" not in passed.terms
    np.testing.assert_allclose(fused.value, passed.value, rtol=1e-14)
    np.testing.assert_allclose(fused.grad_x, passed.grad_x, rtol=1e-12, atol=1e-14)
    assert fused_gap > 0.0
    np.testing.assert_allclose(fused_gap, passed_gap, rtol=1e-12)
    # And a run: certified, at the optimum that the passes reach.
    res = solve(solve_lbfgs, objective, 1e-10)
    monkeypatch.setattr(_lbfgs, "_fuses", lambda objective: False)
    assert res.converged
    assert_both_within(objective, res, solve(solve_lbfgs, objective, 1e-10), 1e-10)


@pytest.mark.parametrize("kind", ["dense", "weights", "no_intercept", "fortran"])
def test_lbfgs_logistic_blocks_equal_the_pass(monkeypatch, kind):
    """The log loss's evaluations by blocks of rows: the pass's value and gradient.

    Blocks of 32 rows (X read once, each block's gradient between its two
    products) where no gap is due; the run reaches the pass's optimum.
    """
    from skgd._backend import _row_pass
    from skgd.solvers import _lbfgs

    X, y = binary_problem(3)
    if kind == "fortran":
        X = np.asfortranarray(X)
    sw = np.random.default_rng(4).uniform(0.2, 3.0, len(y))
    kw = {
        "sample_weight": sw if kind == "weights" else None,
        "fit_intercept": kind != "no_intercept",
    }
    objective = objective_of(X, y, LogLoss(), L2(1e-2), **kw)
    monkeypatch.setattr(_row_pass, "_BLOCK_ELEMENTS", 32 * X.shape[1])
    assert len(_lbfgs._logistic_blocks(objective)) == 7  # 200 rows
    point = np.random.default_rng(5).standard_normal(objective.coef_shape)

    def evaluate():
        run = _lbfgs._Run(objective, tol=1e-10, verbose=0, callback=None)
        return run.evaluate(run.pack(point, 0.3), dual_terms=False)

    blocked = evaluate()
    res = solve(solve_lbfgs, objective, 1e-10)
    monkeypatch.setattr(_lbfgs, "_logistic_blocks", lambda objective: None)
    passed = evaluate()
    assert "box" not in blocked.terms
    assert "extremes" not in blocked.terms
    np.testing.assert_allclose(blocked.raw, passed.raw, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(blocked.value, passed.value, rtol=1e-14)
    np.testing.assert_allclose(blocked.grad_x, passed.grad_x, rtol=1e-12, atol=1e-14)
    assert res.converged
    assert_both_within(objective, res, solve(solve_lbfgs, objective, 1e-10), 1e-10)


def standardized_iris():
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize(("penalty", "l1_ratio"), [("l1", 1.0), ("elasticnet", 0.5)])
def test_lbfgs_multinomial_l1_matches_saga(penalty, l1_ratio):
    """L-BFGS-B on the split coefficients: LogisticRegression's L1 solution."""
    X, y = standardized_iris()
    alpha = 1e-2
    # A gap of 1e-10 leaves the coefficients up to sqrt(2 gap / l2) ~ 1e-4 apart
    # (4e-6 here): the gap is tightened to compare them at 1e-6.
    est = GDClassifier(
        penalty=penalty, alpha=alpha, l1_ratio=l1_ratio, tol=1e-13, max_iter=10_000
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    assert est.n_iter_ < 300
    lr = LogisticRegression(
        C=1.0 / (alpha * len(y)),
        l1_ratio=l1_ratio,
        solver="saga",
        tol=1e-14,
        max_iter=100_000,
    ).fit(X, y)
    # The same coefficients, exact zeros in the same places (a third of them).
    np.testing.assert_allclose(est.coef_, lr.coef_, atol=1e-6)
    np.testing.assert_array_equal(est.coef_ == 0.0, lr.coef_ == 0.0)
    assert np.mean(est.coef_ == 0.0) > 0.2
    np.testing.assert_allclose(
        est.intercept_ - est.intercept_.mean(),
        lr.intercept_ - lr.intercept_.mean(),
        atol=1e-6,
    )


@pytest.mark.parametrize("kind", ["dense", "sparse", "weights", "no_intercept", "f32"])
def test_lbfgs_multinomial_elastic_net_matches_the_first_order_solver(kind):
    X, y = classes_problem(4)
    sw = np.random.default_rng(4).uniform(0.2, 3.0, len(y))
    if kind == "sparse":
        X = sp.csr_array(np.where(np.abs(X) > 3.0, X, 0.0))
    if kind == "f32":
        X = X.astype(np.float32)
    objective = objective_of(
        X,
        y,
        MultinomialLogLoss(n_classes=4),
        L1L2(1.0, 0.01),
        sample_weight=sw if kind == "weights" else None,
        fit_intercept=kind != "no_intercept",
    )
    tol = 1e-5 if kind == "f32" else 1e-10
    ours = solve(solve_lbfgs, objective, tol)
    assert ours.converged
    assert ours.extra["certified"]
    assert ours.coef.dtype == X.dtype
    assert np.mean(ours.coef == 0.0) > 0.1
    assert_both_within(objective, ours, solve(solve_gd, objective, tol), tol)


@pytest.mark.parametrize(
    ("loss", "penalty", "dtype", "fit_intercept"),
    [
        (LogLoss(), L2(1e-2), np.float64, True),
        (LogLoss(), L1(1e-2), np.float32, True),
        (Huber(1.0), L2(1e-2), np.float64, False),
        (MultinomialLogLoss(n_classes=4), L2(1e-2), np.float64, True),
        (MultinomialLogLoss(n_classes=4), L2(1e-2), np.float32, False),
    ],
    ids=["log", "log-l1-f32", "huber-no-intercept", "multinomial", "multi-f32"],
)
def test_lbfgs_start_at_zero_takes_no_product_and_the_same_bits(
    monkeypatch, loss, penalty, dtype, fit_intercept
):
    # At w = 0 the predictions are the offset: the start's evaluation skips
    # X @ w and gives the very bits of the evaluation through the product.
    from skgd.solvers._lbfgs import _Run

    if loss.n_outputs > 1:
        X, y = classes_problem(11)
    else:
        X, y = binary_problem(11)
        y = y if isinstance(loss, LogLoss) else y + X[:, 0]
    X = X.astype(dtype)
    objective = objective_of(X, y, loss, penalty, fit_intercept=fit_intercept)
    run = _Run(objective, tol=1e-8, verbose=0, callback=None)
    x0 = run.pack(np.zeros(objective.coef_shape, dtype=dtype), run.offset(0.3))
    through = run.evaluate(x0, dual_terms=True)
    products = []
    matvec = objective.backend.matvec
    monkeypatch.setattr(
        objective.backend, "matvec", lambda *a: products.append(1) or matvec(*a)
    )
    skipped = run.evaluate(x0, dual_terms=True, zero=True)
    assert products == []
    np.testing.assert_array_equal(skipped.raw, through.raw)
    assert skipped.value == through.value
    np.testing.assert_array_equal(skipped.grad_x, through.grad_x)
    # The whole run from zero takes the shortcut once and still meets tol.
    res = solve(solve_lbfgs, objective, 1e-8)
    assert res.converged
    assert res.extra["measure"] <= 1e-8
