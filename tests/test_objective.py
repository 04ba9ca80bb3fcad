# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
import numpy as np
import pytest
import scipy.sparse as sp
from _data import make_problem

# This file tests a private seam: LinearObjective, which the solvers call.
from skgd._backend import get_backend
from skgd._objective import LinearObjective
from skgd.losses import (
    EpsilonInsensitive,
    Hinge,
    Huber,
    LogLoss,
    ModifiedHuber,
    MultinomialLogLoss,
    SquaredError,
)
from skgd.penalties import L1, L1L2, L2


def build(X, y, loss=None, penalty=None, sample_weight=None, fit_intercept=True):
    return LinearObjective(
        get_backend(X),
        X,
        y,
        loss or SquaredError(),
        penalty or L1L2(0.1, 0.5),
        sample_weight=sample_weight,
        fit_intercept=fit_intercept,
    )


@pytest.mark.parametrize("loss", [SquaredError(), Huber(0.5)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_objective_gradient_matches_finite_differences(loss, fit_intercept, seed):
    X, y = make_problem(seed, 30, 5)
    s = np.random.default_rng(seed).uniform(0.2, 2, size=30)
    obj = build(X, y, loss, sample_weight=s, fit_intercept=fit_intercept)
    rng = np.random.default_rng(seed + 1)
    w, c = rng.normal(size=5), 0.3

    def f(w, c):
        return obj.loss_value(obj.raw(w, c))

    gw, gc = obj.backprop(obj.raw_gradient(obj.raw(w, c)))
    h = 1e-6
    num = [(f(w + h * e, c) - f(w - h * e, c)) / (2 * h) for e in np.eye(5)]
    np.testing.assert_allclose(gw, num, rtol=1e-6, atol=1e-8)
    if obj.intercept_mode == "free":
        assert gc == pytest.approx((f(w, c + h) - f(w, c - h)) / (2 * h), rel=1e-6)


def test_objective_raw_is_uncentered_model(seed):
    X, y = make_problem(seed, 30, 5)
    obj = build(X, y, sample_weight=np.arange(1.0, 31.0))
    w = np.random.default_rng(seed).normal(size=5)
    c = 1.7
    b = obj.intercept(w, c)
    np.testing.assert_allclose(obj.raw(w, c), X @ w + b, rtol=1e-12)
    assert obj.offset(w, b) == pytest.approx(c)


@pytest.mark.parametrize("penalty", [L1(0.3), L2(0.3), L1L2(0.3, 0.4)])
def test_objective_duality_gap_bounds_suboptimality(penalty, seed):
    X, y = make_problem(seed, 40, 6)
    obj = build(X, y, penalty=penalty)
    rng = np.random.default_rng(seed)
    # The gap equals P(w) - D(theta) written the textbook way, and is >= 0.
    for _ in range(5):
        w = rng.normal(size=6)
        raw = obj.raw(w, obj.initial_offset())
        gw, _ = obj.backprop(obj.raw_gradient(raw))
        gap = obj.duality_gap(w, raw, gw)
        r = y - raw
        u = obj.u
        v = -gw
        k = penalty.dual_scale(v)
        yc = y - obj.y_offset
        primal = 0.5 * np.sum(u * r * r) + float(penalty.value(w))
        dual = (
            k * np.sum(u * r * yc)
            - 0.5 * k * k * np.sum(u * r * r)
            - penalty.conjugate(k * v)
        )
        assert gap >= 0
        assert gap == pytest.approx(primal - dual, rel=1e-9, abs=1e-12)


def test_objective_sparse_statistics_equal_dense(seed):
    rng = np.random.default_rng(seed)
    X = sp.random(70, 9, density=0.3, format="csr", random_state=seed)
    X.data += 100.0  # large mean, small spread: no cancellation allowed
    s = rng.uniform(0, 2, size=70)
    y = rng.normal(size=70)
    for Xs in (X, X.tocsc()):
        a, b = build(Xs, y, sample_weight=s), build(X.toarray(), y, sample_weight=s)
        np.testing.assert_allclose(a.metric(), b.metric(), rtol=1e-10)
        np.testing.assert_allclose(a.x_mean, b.x_mean, rtol=1e-12)
    dense = X.toarray()
    m = np.average(dense, axis=0, weights=s)
    var = np.average((dense - m) ** 2, axis=0, weights=s)
    np.testing.assert_allclose(build(X, y, sample_weight=s).metric(), var, rtol=1e-9)


def test_objective_constant_column_is_inactive():
    X = np.column_stack([np.arange(5.0), np.full(5, 0.1 + 0.2)])
    obj = build(X, np.arange(5.0))
    np.testing.assert_array_equal(obj.active, [True, False])
    gw, _ = obj.backprop(obj.raw_gradient(obj.raw(np.ones(2), 0.0)))
    assert gw[1] == 0.0


@pytest.mark.parametrize(
    "loss_name", ["huber", "epsilon_insensitive", "squared_epsilon_insensitive"]
)
@pytest.mark.parametrize("penalty", [L1(0.05), L2(0.05)])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_objective_duality_gap_of_robust_losses_is_an_upper_bound(
    loss_name, penalty, fit_intercept, seed
):
    from skgd import GDRegressor
    from skgd.losses import get_loss

    X, y = make_problem(seed, 40, 5)
    y[:3] += 20.0
    loss = get_loss(loss_name, epsilon=0.5)
    obj = build(X, y, loss, penalty, fit_intercept=fit_intercept)
    assert obj.has_duality_gap
    kw = {"penalty": "l1" if penalty.l1 else "l2", "alpha": 0.05}
    best = GDRegressor(
        loss=loss_name,
        epsilon=0.5,
        tol=1e-9 if loss.is_smooth else 1e-6,
        max_iter=20_000,
        fit_intercept=fit_intercept,
        **kw,
    ).fit(X, y)
    p_star = best.loss_curve_[-1]
    rng = np.random.default_rng(seed)
    for scale in (1.0, 0.1, 0.01):
        w = best.coef_ + scale * rng.normal(size=5)
        c = obj.offset(w, best.intercept_ + scale * rng.normal())
        raw = obj.raw(w, c)
        gw, _ = obj.backprop(obj.raw_gradient(raw))
        gap = obj.duality_gap(w, raw, gw)
        assert gap >= obj.value(w, raw) - p_star - 1e-12
    # and it vanishes at the optimum, to the accuracy asked for
    raw = obj.raw(best.coef_, obj.offset(best.coef_, best.intercept_))
    gw, _ = obj.backprop(obj.raw_gradient(raw))
    if loss.is_smooth:
        assert obj.duality_gap(best.coef_, raw, gw) <= 1e-8 * obj.zero_value()


@pytest.mark.parametrize(
    "loss",
    [
        Huber(0.5),
        EpsilonInsensitive(0.1).smoothed(0.05),
        LogLoss(),
        ModifiedHuber(),
        Hinge().smoothed(0.1),
        MultinomialLogLoss(3),
    ],
    ids=["huber", "smoothed_eps", "log_loss", "modified_huber", "hinge", "multinomial"],
)
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_one_pass_duality_gap_equals_the_separate_one(loss, fit_intercept, seed):
    # The fused iteration builds its dual point from the reductions of the pass that
    # takes the gradient (centering and box, or the balancing mix), and evaluates
    # it in the next pass: the gap must be the one duality_gap computes directly.
    X, y = make_problem(seed, 40, 6)
    K = loss.n_outputs
    if K > 1:
        y = np.digitize(y, np.quantile(y, [0.2, 0.5])).astype(float)
    elif loss.balanced_dual:
        y = np.where(y > np.median(y) + 0.3, 1.0, -1.0)  # unbalanced classes
    s = np.random.default_rng(seed).uniform(0.2, 2, size=40)
    s[3] = 0.0
    obj = build(X, y, loss, L1L2(0.05, 0.5), s, fit_intercept)
    rng = np.random.default_rng(seed + 1)
    w = rng.normal(size=(6, K) if K > 1 else 6)
    c = rng.normal(size=K) if K > 1 else 0.2
    raw = obj.raw(w, c)
    terms = obj.pass_terms(raw, None, raw, losses=(loss,))
    shift, v = obj.dual_point(terms)
    k = obj.dual_scale(v, terms)
    (loss_dual,) = obj.pass_terms(None, raw, None, duals=(shift, [(loss, k)]))["duals"]
    gap = obj.gap(terms["values"][0] + obj.penalty_value(w), loss_dual, k, v)
    grad_w = obj.backprop(obj.raw_gradient(raw))[0]
    np.testing.assert_allclose(terms["grad"][0], grad_w, rtol=1e-12, atol=1e-14)
    expected = obj.duality_gap(w, raw, grad_w, obj.raw_gradient(raw))
    assert 0 < expected < np.inf
    assert gap == pytest.approx(expected, rel=1e-10)
    if fit_intercept and loss.balanced_dual:
        # The balanced point is feasible, sums to zero, and v is its X_c.T.
        theta, _ = loss.balance_dual(obj.y, -obj.raw_gradient(raw), obj.u)
        np.testing.assert_allclose(theta.sum(axis=0), 0.0, atol=1e-15)
        assert loss.dual_value(obj.y, theta, obj.u) > -np.inf
        Xc = X - obj.x_mean
        np.testing.assert_allclose(v, Xc.T @ theta, rtol=1e-10, atol=1e-14)


def test_column_stats_are_frozen_and_shared(seed):
    import dataclasses

    X, y = make_problem(seed, 30, 5)
    obj = build(X, y)
    with pytest.raises(dataclasses.FrozenInstanceError):
        obj.stats.u = None
    # Objectives over the same X and weights compute the moments once.
    other = obj.with_target(2.0 * y).with_loss(Huber(0.5)).with_penalty(L2(0.1))
    assert other.stats is obj.stats
    assert other.moments() is obj.moments()
    np.testing.assert_allclose(obj.moments().sq, X.var(axis=0), rtol=1e-12)
    # A path's penalties share the loss's best constant (computed once), and
    # it is the one a fresh objective computes.
    offset = obj.initial_offset()
    shared = obj.with_penalty(L2(0.1))
    assert shared.__dict__["y_offset"] is obj.__dict__["y_offset"]
    assert shared.initial_offset() == pytest.approx(np.mean(y), rel=1e-12)
    assert offset == build(X, y).initial_offset()
    # A derived copy over other columns carries its own products.
    part = dataclasses.replace(
        obj.stats,
        x_mean=obj.x_mean[:2],
        sq=obj.moments().sq[:2],
        products=type(obj.stats.products)(),
    )
    sub = LinearObjective(obj.backend, X[:, :2], y, SquaredError(), L2(0.1), stats=part)
    np.testing.assert_allclose(sub.metric(), obj.metric()[:2])


def test_column_moments_read_on_first_use_are_the_definitions():
    # A constant column (inactive), weights of zero on 4 of 9 rows: the
    # metrics, curvature bounds, trace and row count computed on first use.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((9, 4))
    X[:, 2] = 3.0
    y = rng.standard_normal(9)
    sw = np.array([1.0, 2.0, 0.0, 1.0, 0.0, 3.0, 0.0, 1.0, 0.0])
    obj = build(X, y, sample_weight=sw)
    m = obj.moments()
    u = sw / sw.sum()
    sq = u @ (X - u @ X) ** 2
    np.testing.assert_allclose(m.sq, sq, rtol=1e-12, atol=1e-30)
    assert m.active.tolist() == [True, True, False, True]
    on = np.where(m.active, m.sq, 0.0)
    np.testing.assert_array_equal(m.metrics["jacobi"], np.where(m.active, m.sq, 1.0))
    np.testing.assert_array_equal(m.metrics["identity"], np.ones(4))
    assert m.diag_max == {"jacobi": 1.0, "identity": float(on.max())}
    assert m.trace == {"jacobi": 3.0, "identity": float(on.sum())}
    # 5 weighted rows, less one for the intercept, against 3 active columns.
    assert m.underdetermined is False
    wide = build(X, y, sample_weight=np.array([1.0, 1.0, 1.0] + [0.0] * 6))
    assert wide.moments().underdetermined is True


def test_both_forms_keep_the_protocol(seed):
    from skgd._forms import ObjectiveForm
    from skgd._gram import gram_form

    X, y = make_problem(seed, 40, 6)
    obj = build(X, y, penalty=L1(0.05))
    gram = gram_form(obj)
    for form in (obj, gram):
        assert isinstance(form, ObjectiveForm)
        assert form.curvature == 1.0
    assert (obj.form, obj.per_sample) == ("samples", True)
    assert (gram.form, gram.per_sample) == ("gram", False)
    # What a form cannot do it declares: the Gram form has no per-sample parts.
    assert obj.closed_form() is None
    assert gram.gradient(gram.raw(np.ones(6), 0.0))[0] is None
    assert not hasattr(gram, "pass_terms")
    assert not hasattr(gram, "loss_value")


@pytest.mark.parametrize("penalty", [L1(0.05), L1L2(0.05, 0.5)])
def test_quadratic_gap_is_the_same_in_every_solver(penalty, seed):
    from skgd._gram import gram_form
    from skgd.solvers._gram_enet import _dual_gap

    X, y = make_problem(seed, 40, 6)
    obj = build(X, y, penalty=penalty)
    gram = gram_form(obj)
    w = np.random.default_rng(seed).normal(size=6)
    raw = obj.raw(w, obj.initial_offset())
    gap = obj.duality_gap(w, raw, obj.gradient(raw)[1])
    gram_raw = gram.raw(w, 0.0)
    assert gram.duality_gap(w, gram_raw, gram.gradient(gram_raw)[1]) == (
        pytest.approx(gap, rel=1e-9)
    )
    vq = float(w @ (2.0 * gram.q - gram_raw))
    enet = _dual_gap(penalty, w, gram.q - gram_raw, gram.yy, vq, np)
    assert enet == pytest.approx(gap, rel=1e-9)


def test_uncentered_minibatch_view_has_every_column_active(seed):
    X, y = make_problem(seed, 30, 5)
    obj = LinearObjective.minibatch(
        get_backend(X), X, y, SquaredError(), L2(0.1), centered=False
    )
    assert not obj.centered
    assert obj.intercept_mode == "free"
    assert bool(np.all(obj.active))
    np.testing.assert_array_equal(obj.x_mean, 0.0)
