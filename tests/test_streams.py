# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Streams: chunks that split one array give its steps; Adam on unscaled targets."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_regression
from sklearn.preprocessing import StandardScaler

from skgd import GDClassifier, GDRegressor

CONFIGS = [
    {"solver": "sgd", "momentum": 0.0},
    {"solver": "sgd"},
    {"solver": "sgd", "average": True},
    {"solver": "sgd", "average": 100, "momentum": 0.0, "learning_rate": "invscaling"},
    {"solver": "sgd", "learning_rate": "optimal", "alpha": 0.1, "momentum": 0.0},
    {"solver": "adam"},
    {"solver": "adam", "learning_rate": "invscaling"},
]


def _stream_data(kind, n=512, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    weights = rng.uniform(0.5, 2.0, size=n)
    if kind == "regressor":
        return X, 30.0 + 50.0 * (X @ rng.normal(size=5)) + rng.normal(size=n), weights
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    if kind == "3 classes":
        y = y + (X[:, 2] > 1.0)
    return X, y, weights


def _partial_fits(kind, params, chunks, sample_weight):
    est = (GDRegressor if kind == "regressor" else GDClassifier)(**params)
    extra = {}
    if kind != "regressor":
        extra = {"classes": [0, 1] if kind == "2 classes" else [0, 1, 2]}
    for X, y, w in chunks:
        est.partial_fit(X, y, sample_weight=w if sample_weight else None, **extra)
    return np.r_[np.ravel(est.coef_), np.ravel(est.intercept_)]


@pytest.mark.parametrize("sample_weight", [False, True])
@pytest.mark.parametrize("kind", ["regressor", "2 classes", "3 classes"])
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_chunks_of_whole_batches_give_the_steps_of_one_array(
    config, kind, sample_weight
):
    # partial_fit(A); partial_fit(B) is partial_fit([A; B]): every state that
    # carries between calls is carried, and what a stream takes from its data (the
    # starting intercept, the scale of Adam's steps, the weights' scale) is fixed by
    # its first batch, not by the chunk that holds it.
    X, y, w = _stream_data(kind)
    params = dict(config, batch_size=64, shuffle=False, random_state=0)
    whole = _partial_fits(kind, params, [(X, y, w)], sample_weight)
    cuts = [0, 256, 512]  # chunks of at least 4 batches keep their batches
    chunks = [
        (X[a:b], y[a:b], w[a:b]) for a, b in zip(cuts[:-1], cuts[1:], strict=True)
    ]
    split = _partial_fits(kind, params, chunks, sample_weight)
    # Weights normalised per chunk and scaled back round differently, a few ulps
    # a step, which the first steps of Adam (m / sqrt(v)) amplify.
    rtol = 1e-9 if sample_weight else 1e-12
    np.testing.assert_allclose(split, whole, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("learning_rate", ["invscaling", "adaptive"])
def test_dask_chunks_are_partial_fit_calls(learning_rate):
    # A Dask partial_fit is one partial_fit call per chunk, the stream's default
    # steps included; a Dask fit's epochs are too, but at "adaptive" they are a
    # fit's (see test_dask_adaptive_stream_reduces_its_step_as_numpy_does).
    da = pytest.importorskip("dask.array")
    X, y, w = _stream_data("regressor")
    params = {"solver": "adam", "batch_size": 64, "shuffle": False, "tol": None}
    params["learning_rate"] = learning_rate
    Xd, yd = da.from_array(X, chunks=(128, 5)), da.from_array(y, chunks=128)
    wd = da.from_array(w, chunks=128)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dask's and the scheduler's own notices
        if learning_rate == "adaptive":
            fitted = GDRegressor(**params)
            for _ in range(2):
                fitted.partial_fit(Xd, yd, sample_weight=wd)
        else:
            fitted = GDRegressor(max_iter=2, **params).fit(Xd, yd, sample_weight=wd)
    stream = GDRegressor(**params)
    for _ in range(2):
        for a in range(0, 512, 128):
            stream.partial_fit(
                X[a : a + 128], y[a : a + 128], sample_weight=w[a : a + 128]
            )
    np.testing.assert_allclose(fitted.coef_, stream.coef_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fitted.intercept_, stream.intercept_, rtol=1e-12)


def _scaled_regression(scale, n=3000, seed=1):
    X, y = make_regression(n + 2000, 20, noise=10.0, random_state=seed)
    X = StandardScaler().fit_transform(X)
    y = 5.0 * scale + y * scale / y.std()
    return X[:n], y[:n], X[n:], y[n:]


@pytest.mark.parametrize("scale", [1.0, 1e2, 1e4])
def test_adam_needs_no_step_for_the_target_units(scale):
    # Adam's steps are in the target's units, on fit and on a stream: the default
    # reaches the optimum's R^2 whatever the scale of y.
    X, y, X_test, y_test = _scaled_regression(scale)
    best = GDRegressor(solver="gd").fit(X, y).score(X_test, y_test)
    fit = GDRegressor(solver="adam", random_state=0).fit(X, y)
    assert fit.score(X_test, y_test) >= best - 0.01
    stream = GDRegressor(solver="adam", random_state=0)
    for _ in range(3):
        for a in range(0, len(y), 250):
            stream.partial_fit(X[a : a + 250], y[a : a + 250])
    assert stream.score(X_test, y_test) >= best - 0.01


@pytest.mark.parametrize("scale", [1.0, 1e2])
def test_adam_on_huber_keeps_up_with_sgd_whatever_the_target_units(scale):
    X, y, X_test, y_test = _scaled_regression(scale)
    scores = {
        solver: GDRegressor(solver=solver, loss="huber", random_state=0)
        .fit(X, y)
        .score(X_test, y_test)
        for solver in ("sgd", "adam")
    }
    assert scores["adam"] >= scores["sgd"] - 0.01


def test_adam_scale_leaves_the_objective_alone():
    # Adam runs in the target's units, on the same objective: with the squared
    # loss and L2, y * 100 has the optimum coef_ * 100 at the same alpha (both
    # terms scale by 100**2), and Adam reaches it at both scales.
    X, y, _, _ = _scaled_regression(1.0, n=400)
    params = {"solver": "adam", "random_state": 0, "penalty": "l2", "tol": None}
    small = GDRegressor(alpha=1e-2, max_iter=300, **params).fit(X, y)
    best = GDRegressor(solver="gd", alpha=1e-2, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(small.coef_, best.coef_, atol=0.05)
    large = GDRegressor(alpha=1e-2, max_iter=300, **params).fit(X, 100.0 * y)
    np.testing.assert_allclose(large.coef_ / 100.0, best.coef_, atol=0.05)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_classifier_warm_start_is_a_fresh_optimizer_from_the_last_iterate(solver):
    # As its docstring says: the last (not averaged) iterate, a new optimizer,
    # t_ from 1 again; the same as a fit from those coefficients.
    X, y, _ = _stream_data("3 classes", n=300)
    params = {"solver": solver, "max_iter": 3, "tol": None, "random_state": 0}
    params.update(batch_size=50, average=solver == "sgd")
    warm = GDClassifier(warm_start=True, **params).fit(X, y)
    coef = warm._standard_coef.T.copy() if solver == "sgd" else warm.coef_.copy()
    intercept = warm._standard_intercept if solver == "sgd" else warm.intercept_
    intercept = np.array(intercept, copy=True)
    warm.fit(X, y)
    cold = GDClassifier(**params).fit(X, y, coef_init=coef, intercept_init=intercept)
    np.testing.assert_array_equal(warm.coef_, cold.coef_)
    np.testing.assert_array_equal(warm.intercept_, cold.intercept_)
    assert warm.t_ == cold.t_ == 1 + 3 * 6


def _stream(est, X, y, chunk, passes, **extra):
    for _ in range(passes):
        for a in range(0, len(y), chunk):
            est.partial_fit(X[a : a + chunk], y[a : a + chunk], **extra)
    return est


@pytest.mark.parametrize("n_classes", [2, 3])
def test_small_chunks_learn_as_much_per_row_as_sgdclassifier(n_classes):
    # 1,500 rows in 250-row chunks, 5 passes, the first chunk lacking a class:
    # the defaults score at least as SGDClassifier on the same stream, and
    # within 0.03 of the optimum.
    from sklearn.datasets import make_classification
    from sklearn.linear_model import SGDClassifier

    n, chunk = 1500, 250
    X, y = make_classification(
        n + 3000, 10, n_informative=6, n_redundant=2, n_classes=n_classes,
        n_clusters_per_class=1, flip_y=0.05, random_state=0,
    )  # fmt: skip
    X = StandardScaler().fit_transform(X)
    X_test, y_test, X, y = X[n:], y[n:], X[:n], y[:n]
    first = np.flatnonzero(y != n_classes - 1)[:chunk]
    rest = np.setdiff1d(np.arange(n), first)
    order = np.r_[first, np.random.default_rng(0).permutation(rest)]
    X, y = X[order], y[order]
    classes = np.arange(n_classes)
    best = GDClassifier(solver="gd").fit(X, y).score(X_test, y_test)
    sgd = SGDClassifier(loss="log_loss", random_state=0)
    reference = _stream(sgd, X, y, chunk, 5, classes=classes).score(X_test, y_test)
    for solver in ("sgd", "adam"):
        est = GDClassifier(solver=solver, random_state=0)
        score = _stream(est, X, y, chunk, 5, classes=classes).score(X_test, y_test)
        assert score >= reference
        assert score >= best - 0.03


def test_small_chunks_learn_as_much_per_row_as_sgdregressor():
    # 5,000 rows in 250-row chunks, two passes: the defaults reach SGDRegressor's
    # score on the same stream (both within 1e-3 of the optimum).
    from sklearn.linear_model import SGDRegressor

    X, y, X_test, y_test = _scaled_regression(1.0, n=5000, seed=0)
    best = GDRegressor(solver="gd").fit(X, y).score(X_test, y_test)
    sgd = SGDRegressor(random_state=0)
    reference = _stream(sgd, X, y, 250, 2).score(X_test, y_test)
    for solver in ("sgd", "adam"):
        est = _stream(GDRegressor(solver=solver, random_state=0), X, y, 250, 2)
        score = est.score(X_test, y_test)
        assert score >= reference
        assert score >= best - 0.01


def test_thousand_row_chunks_learn_as_much_per_row_as_sgdregressor():
    # The chunks of the throughput benchmark (1,000 rows of 100 standardized,
    # AR(1)-correlated columns, R^2 about 0.8), one pass: the defaults' R^2 is at
    # least SGDRegressor's on the same stream (0.002-0.006 above it over seeds).
    from sklearn.linear_model import SGDRegressor

    rng = np.random.default_rng(0)
    X = rng.standard_normal((25_000, 100))
    for j in range(1, 100):
        X[:, j] = 0.5 * X[:, j - 1] + np.sqrt(0.75) * X[:, j]
    y = X @ rng.standard_normal(100) + 3.0
    y += 0.5 * y.std() * rng.standard_normal(25_000)
    X = StandardScaler().fit_transform(X)
    X_test, y_test, X, y = X[20_000:], y[20_000:], X[:20_000], y[:20_000]
    sgd = _stream(SGDRegressor(random_state=0), X, y, 1000, 1)
    reference = sgd.score(X_test, y_test)
    for solver in ("sgd", "adam"):
        est = _stream(GDRegressor(solver=solver, random_state=0), X, y, 1000, 1)
        assert est.score(X_test, y_test) >= reference


@pytest.mark.parametrize("scale", [1.0, 1e2, 1e3, 1e4])
def test_adam_streams_need_no_step_for_the_huber_target_units(scale):
    # Huber's gradients are bounded by epsilon in y's units: on targets in the
    # hundreds a stream's "sgd" barely moves (R^2 0.03 at 1e2), while "adam",
    # whose steps are in the units of y's spread, keeps within 0.01 of sgd's R^2
    # at every scale, and within 0.015 of the optimum's (0.937 against 0.949 at
    # 1e3, 3 passes).
    X, y, X_test, y_test = _scaled_regression(scale)
    best = GDRegressor(loss="huber").fit(X, y).score(X_test, y_test)
    scores = {
        solver: _stream(
            GDRegressor(solver=solver, loss="huber", random_state=0), X, y, 250, 3
        ).score(X_test, y_test)
        for solver in ("sgd", "adam")
    }
    assert scores["adam"] >= scores["sgd"] - 0.01
    assert scores["adam"] >= best - 0.015


@pytest.mark.parametrize("early_stopping", [False, True])
def test_partial_fit_extends_the_curve_of_a_fit_and_its_best_loss(early_stopping):
    # One value per call after the fit's epochs; best_loss_ is the lowest of all
    # (the fit's own is None under early stopping, which partial_fit ignores).
    X, y, _ = _stream_data("regressor")
    params = {"max_iter": 3, "tol": None, "early_stopping": early_stopping}
    est = GDRegressor(solver="sgd", random_state=0, **params).fit(X, y)
    for a in range(0, 512, 128):
        est.partial_fit(X[a : a + 128], y[a : a + 128])
    assert len(est.loss_curve_) == est.n_iter_ == 3 + 4
    assert est.best_loss_ == min(est.loss_curve_)


@pytest.mark.parametrize("kind", ["regressor", "3 classes"])
def test_per_row_sgd_applies_the_cumulative_l1_penalty_across_calls(kind):
    # batch_size=1 without momentum is scikit-learn's SGD, its L1 included: the
    # cumulative penalty keeps the noise features at exactly zero where a prox
    # per row leaves them at the size of one row's step, and its state carries
    # from call to call.
    X, y, w = _stream_data(kind, n=200)
    if kind == "regressor":
        y = (y - y.mean()) / y.std()
    X = np.c_[X, np.random.default_rng(1).normal(size=(200, 4))]
    params = {
        "solver": "sgd", "batch_size": 1, "momentum": 0.0, "penalty": "l1",
        "alpha": 0.05, "shuffle": False, "learning_rate": "invscaling",
    }  # fmt: skip
    whole = _partial_fits(kind, params, [(X, y, w)], False)
    chunks = [(X[:120], y[:120], w[:120]), (X[120:], y[120:], w[120:])]
    split = _partial_fits(kind, params, chunks, False)
    np.testing.assert_allclose(split, whole, rtol=1e-12, atol=1e-12)
    est = (GDRegressor if kind == "regressor" else GDClassifier)(
        **dict(params, alpha=0.2, max_iter=50, tol=None, random_state=0)
    )
    coef = np.atleast_2d(est.fit(X, y).coef_)
    assert np.all(coef[:, 5:] == 0.0)


def test_per_row_sgd_clips_the_loss_derivative_as_sgdclassifier():
    # batch_size=1 without momentum clips each row's loss derivative at 1e12, as
    # scikit-learn's SGD does: on unscaled data the first steps of "optimal"
    # blow up, and the clipped run recovers where an unclipped one overflows.
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    est = GDClassifier(
        loss="squared_hinge", penalty="elasticnet", l1_ratio=0.3, alpha=0.01,
        solver="sgd", batch_size=1, momentum=0.0, learning_rate="optimal",
        max_iter=10, tol=None, random_state=0,
    )  # fmt: skip
    with np.errstate(all="raise"):
        est.fit(X, y)
    assert np.isfinite(est.coef_).all()


@pytest.mark.parametrize("target_scale", [1.0, 2.0**-600])
def test_a_failed_partial_fit_leaves_the_curve_as_it_was(monkeypatch, target_scale):
    # A call holds its curve values aside until the fit commits: one that fails
    # after its solver ran leaves loss_curve_ (the same list), n_iter_ and
    # best_loss_ as they were, and the next call extends it by one value.
    import skgd._stream

    X, y, _ = _stream_data("regressor")
    y = y * target_scale
    est = GDRegressor(solver="sgd", random_state=0)
    for a in (0, 128):
        est.partial_fit(X[a : a + 128], y[a : a + 128])
    curve, before = est.loss_curve_, list(est.loss_curve_)
    n_iter, best = est.n_iter_, est.best_loss_

    def fail(est, *args):
        store(est, *args)
        raise RuntimeError("after the solver")

    store = skgd._stream._store
    monkeypatch.setattr(skgd._stream, "_store", fail)
    with pytest.raises(RuntimeError, match="after the solver"):
        est.partial_fit(X[256:384], y[256:384])
    monkeypatch.undo()
    assert est.loss_curve_ == before
    assert est.n_iter_ == n_iter
    assert est.best_loss_ == best
    est.partial_fit(X[256:384], y[256:384])
    assert len(est.loss_curve_) == est.n_iter_ == 3
    assert est.best_loss_ == min(est.loss_curve_)
    if target_scale == 1.0:  # (a rescaled stream's list is rebuilt per call)
        assert est.loss_curve_ is curve


def _ar1_stream(n, rho, seed=0):
    # Columns x_j = rho x_{j-1} + sqrt(1 - rho^2) z_j: a Hessian whose largest
    # eigenvalue grows as (1 + rho) / (1 - rho), where a step that sums per-row
    # steps over a batch would diverge without its cap.
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 20))
    for j in range(1, 20):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho * rho) * X[:, j]
    return X, X @ rng.standard_normal(20) + rng.standard_normal(n)


def _passes(est, X, y, chunk, passes):
    for _ in range(passes):
        for a in range(0, len(y), chunk):
            est.partial_fit(X[a : a + chunk], y[a : a + chunk])
    return est


@pytest.mark.parametrize("rho", [0.9, 0.95])
@pytest.mark.parametrize("chunk", [250, 1000])
def test_streams_of_correlated_columns_reach_the_optimum(rho, chunk):
    # Two passes at the defaults: "sgd" within 0.01 of the optimum's R^2 (as
    # SGDRegressor is, 0.964-0.968 against 0.968-0.972), "adam" within 0.02.
    X, y = _ar1_stream(6000, rho)
    X_test, y_test, X, y = X[4000:], y[4000:], X[:4000], y[:4000]
    best = GDRegressor(solver="gd").fit(X, y).score(X_test, y_test)
    for solver, margin in (("sgd", 0.01), ("adam", 0.02)):
        est = _passes(GDRegressor(solver=solver, random_state=0), X, y, chunk, 2)
        assert est.score(X_test, y_test) >= best - margin


@pytest.mark.parametrize("chunk", [250, 1000])
def test_streams_of_unscaled_columns_do_not_diverge(chunk):
    # Columns of scales 1e-3..1e3, not standardized: SGDRegressor's coefficients
    # overflow to an R^2 of -1e27. The stream's "sgd" steps are capped by the
    # curvature of its first batch and "adam" takes at most 10 eta0: both stay
    # finite and learn the large columns (R^2 0.3 and 0.54-0.79 of an optimum of
    # 0.86; the small columns need steps 1e12 times larger).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8000, 10))
    y = X @ rng.normal(size=10) + 0.5 * rng.normal(size=8000)
    X *= np.logspace(-3, 3, 10)
    for solver in ("sgd", "adam"):
        est = _passes(
            GDRegressor(solver=solver, random_state=0), X[:5000], y[:5000], chunk, 3
        )
        assert np.isfinite(est.coef_).all()
        assert est.score(X[5000:], y[5000:]) > 0.2
