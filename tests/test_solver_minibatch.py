# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The stochastic solvers ("sgd", "adam") through GDRegressor and solve_minibatch."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDRegressor
from sklearn.metrics import r2_score
from sklearn.model_selection import ShuffleSplit

from skgd import GDRegressor
from skgd.losses import get_loss
from skgd.penalties import get_penalty

LOSSES = [
    "squared_error",
    "huber",
    "epsilon_insensitive",
    "squared_epsilon_insensitive",
]
SOLVERS = ["sgd", "adam"]


def _standardized(seed=0, n_samples=600, n_features=10, noise=0.5):
    """Standardized X (correlated columns) and y, with 3 irrelevant features."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)) + 0.5 * rng.normal(size=(n_samples, 1))
    X = (X - X.mean(0)) / X.std(0)
    w = rng.normal(size=n_features)
    w[-3:] = 0.0
    y = X @ w + noise * rng.normal(size=n_samples) + 2.0
    return X, (y - y.mean()) / y.std()


def _objective(est, X, y):
    """The contract's penalized objective at a fitted estimator's coefficients."""
    loss = get_loss(est.loss, epsilon=est.epsilon)
    pen = get_penalty(est.penalty, alpha=est.alpha, l1_ratio=est.l1_ratio)
    return float(loss.value(y, est.predict(X))) + float(pen.value(est.coef_))


def _gap(est, opt, X, y):
    """Suboptimality relative to the objective at zero coefficients (the gd tol's)."""
    zero = GDRegressor(
        loss=opt.loss, penalty=opt.penalty, alpha=opt.alpha, epsilon=opt.epsilon
    )
    zero.coef_, zero.intercept_ = np.zeros(X.shape[1]), np.float64(0.0)
    zero.n_features_in_ = X.shape[1]
    ref = _objective(zero, X, y)
    return (_objective(est, X, y) - _objective(opt, X, y)) / ref


@pytest.fixture(scope="module")
def data():
    return _standardized()


@pytest.mark.parametrize(
    ("learning_rate", "scale"),
    [("constant", 1.0), ("invscaling", 1.0), ("optimal", 0.2), ("adaptive", 1.0)],
)
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("penalty", ["l2", None])
def test_batch_size_one_matches_sgdregressor(learning_rate, scale, loss, penalty):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    X = scale * (X - X.mean(0))  # centered: implicit centering is then a no-op
    y = X @ rng.normal(size=4) / scale + 0.3 * rng.normal(size=40) + 1.0
    kw = dict(
        loss=loss,
        penalty=penalty,
        learning_rate=learning_rate,
        eta0=0.02,
        power_t=0.3,
        alpha=0.1,
        epsilon=0.5,
        max_iter=6,
        tol=None,
        shuffle=False,
    )
    # SGDRegressor updates coef_init in place: give each its own start.
    ref = SGDRegressor(**kw).fit(X, y, coef_init=np.zeros(4), intercept_init=0.0)
    ours = GDRegressor(solver="sgd", batch_size=1, momentum=0.0, **kw).fit(
        X, y, coef_init=np.zeros(4), intercept_init=0.0
    )
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_[0], rtol=1e-10)
    assert ours.t_ == ref.t_ == 1 + 6 * 40
    assert ours.n_iter_ == ref.n_iter_ == 6


def test_batch_size_one_average_matches_sgdregressor():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 3))
    X -= X.mean(0)
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=30)
    kw = dict(learning_rate="constant", eta0=0.05, max_iter=4, tol=None)
    kw.update(shuffle=False, average=7, alpha=0.01)
    ref = SGDRegressor(**kw).fit(X, y, coef_init=np.zeros(3), intercept_init=0.0)
    ours = GDRegressor(solver="sgd", batch_size=1, momentum=0.0, **kw)
    ours.fit(X, y, coef_init=np.zeros(3), intercept_init=0.0)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_[0], rtol=1e-10)
    np.testing.assert_allclose(ours._standard_coef, ref._standard_coef, rtol=1e-10)
    np.testing.assert_allclose(ours._average_coef, ref._average_coef, rtol=1e-10)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
@pytest.mark.parametrize("loss", LOSSES)
def test_defaults_reach_the_optimum(data, solver, loss, penalty):
    X, y = data
    kw = dict(loss=loss, penalty=penalty, alpha=0.01)
    with warnings.catch_warnings():
        # gd on epsilon_insensitive stops short of 1e-12; its objective is then an
        # upper bound on the optimum, which only makes the test stricter.
        warnings.simplefilter("ignore", ConvergenceWarning)
        opt = GDRegressor(solver="gd", tol=1e-12, max_iter=3000, **kw).fit(X, y)
    est = GDRegressor(solver=solver, random_state=0, **kw).fit(X, y)
    assert _gap(est, opt, X, y) <= 1e-2
    assert est.score(X, y) >= opt.score(X, y) - 0.01


@pytest.mark.parametrize("solver", SOLVERS)
def test_l1_gives_exact_zeros(data, solver):
    X, y = data
    est = GDRegressor(solver=solver, penalty="l1", alpha=0.05, random_state=0)
    est.fit(X, y)
    opt = GDRegressor(penalty="l1", alpha=0.05, tol=1e-12).fit(X, y)
    assert np.all(est.coef_[opt.coef_ == 0] == 0.0)
    assert np.sum(est.coef_ == 0) >= 3
    assert _gap(est, opt, X, y) <= 1e-2


@pytest.mark.parametrize(
    ("solver", "learning_rate", "average"),
    [("sgd", "adaptive", True), ("adam", "adaptive", True), ("sgd", "constant", 3000)],
)
def test_averaging_with_elasticnet_converges(data, solver, learning_rate, average):
    # Polyak-Ruppert averaging of the proximal iterates. A mean from the first
    # update keeps the transient (error O(1/T)); with a constant step, start it
    # after 5 epochs, the classic ASGD setting. Batches of 128 give T enough
    # updates on these 600 rows (the transient is a property of averaging from
    # the start, not of the batch size).
    X, y = data
    kw = dict(penalty="elasticnet", alpha=0.02, l1_ratio=0.5, batch_size=128)
    opt = GDRegressor(tol=1e-12, **kw).fit(X, y)
    est = GDRegressor(
        solver=solver,
        average=average,
        learning_rate=learning_rate,
        random_state=0,
        **kw,
    ).fit(X, y)
    assert np.all(np.isfinite(est.coef_))
    assert _gap(est, opt, X, y) <= 1e-2
    np.testing.assert_array_equal(est.coef_, est._average_coef)
    assert not np.array_equal(est._standard_coef, est._average_coef)


@pytest.mark.parametrize("solver", SOLVERS)
def test_partial_fit_continues_the_state(data, solver):
    # Without intercept the stream model equals the batch one; batches of 50
    # fit both halves exactly, so two calls are one pass over the concatenation,
    # momentum / Adam moments and the step counter included.
    X, y = data
    kw = dict(solver=solver, fit_intercept=False, batch_size=50, shuffle=False)
    kw.update(learning_rate="invscaling", eta0=0.05)
    one = GDRegressor(**kw).partial_fit(X, y)
    two = GDRegressor(**kw).partial_fit(X[:300], y[:300])
    assert two.t_ == 1 + 6
    two.partial_fit(X[300:], y[300:])
    assert one.t_ == two.t_ == 1 + 12
    np.testing.assert_allclose(two.coef_, one.coef_, rtol=1e-12)
    assert two.n_iter_ == len(two.loss_curve_) == 2
    # Restarting would not give the same coefficients: the state mattered.
    fresh = GDRegressor(**kw).partial_fit(X[300:], y[300:], sample_weight=None)
    assert not np.allclose(fresh.coef_, one.coef_)


@pytest.mark.parametrize("solver", SOLVERS)
def test_partial_fit_passes_approach_the_batch_solution(data, solver):
    X, y = data
    opt = GDRegressor(tol=1e-12).fit(X, y)
    est = GDRegressor(solver=solver, random_state=0)
    for _ in range(20):
        for chunk in np.array_split(np.arange(len(y)), 6):
            est.partial_fit(X[chunk], y[chunk])
    assert est.n_iter_ == 120
    assert est.score(X, y) >= opt.score(X, y) - 0.01


def test_partial_fit_after_fit_and_n_features_mismatch(data):
    X, y = data
    gd = GDRegressor().fit(X, y)
    est = GDRegressor().fit(X, y).partial_fit(X, y)  # continues from gd's coef_
    assert est.score(X, y) >= gd.score(X, y) - 0.01
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[:, :4], y)
    sgd = GDRegressor(solver="sgd", random_state=0).fit(X, y)
    t = sgd.t_
    sgd.partial_fit(X[:100], y[:100])
    assert sgd.t_ == t + 4  # a call makes at least 4 updates: batches of 25 rows


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("average", [False, 5])
def test_warm_start_restarts_the_optimizer_from_the_last_iterate(data, solver, average):
    # As SGDRegressor (t_ back to 1) and MLPRegressor (a new optimizer): a warm
    # fit is a fresh fit started from the last, not averaged, iterate.
    X, y = data
    kw = dict(solver=solver, shuffle=False, tol=None, learning_rate="invscaling")
    kw.update(max_iter=3, average=average)
    warm = GDRegressor(warm_start=True, **kw).fit(X, y)
    assert warm.t_ == 1 + 3 * 3
    state = warm._minibatch_state
    start, offset = state["coef"][0].copy(), state["intercept"][0]
    warm.set_params(alpha=0.01).fit(X, y)
    cold = GDRegressor(**kw, alpha=0.01).fit(
        X, y, coef_init=start, intercept_init=offset
    )
    assert warm.t_ == cold.t_ == 1 + 3 * 3
    np.testing.assert_allclose(warm.coef_, cold.coef_, rtol=1e-12)
    np.testing.assert_allclose(warm.intercept_, cold.intercept_, rtol=1e-12)
    # The optimizer's state mattered to partial_fit, not here: a stream goes on.
    # (a call makes at least 4 updates: 600 rows in batches of 150)
    assert GDRegressor(**kw).fit(X, y).partial_fit(X, y).t_ == 1 + 3 * 3 + 4


@pytest.mark.parametrize("solver", SOLVERS)
def test_early_stopping_keeps_the_best(data, solver):
    X, y = data
    est = GDRegressor(
        solver=solver,
        early_stopping=True,
        validation_fraction=0.2,
        learning_rate="constant",
        eta0=0.05,
        random_state=0,
    ).fit(X, y)
    assert est.best_loss_ is None
    assert len(est.validation_scores_) == est.n_iter_ == len(est.loss_curve_)
    assert est.n_iter_ < est.max_iter
    assert est.best_validation_score_ == max(est.validation_scores_)
    # The split the estimator made: SGDRegressor's, seeded by random_state itself.
    _, val = next(ShuffleSplit(test_size=0.2, random_state=0).split(X))
    score = r2_score(y[val], est.predict(X[val]))
    np.testing.assert_allclose(score, est.best_validation_score_, rtol=1e-12)
    plain = GDRegressor(solver=solver, random_state=0).fit(X, y)
    assert plain.validation_scores_ is None
    assert plain.best_loss_ == min(plain.loss_curve_)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("learning_rate", ["constant", "adaptive", "invscaling"])
def test_divergence_raises_and_keeps_coef_finite(data, solver, learning_rate):
    X, y = data
    X_bad = 1000.0 * X + 50.0
    est = GDRegressor(solver="sgd", random_state=0, max_iter=3, tol=None).fit(X, y)
    before = est.coef_.copy()
    est.set_params(solver=solver, eta0=1e3, learning_rate=learning_rate)
    with pytest.raises(ValueError, match="eta0=1000") as info:
        est.fit(X_bad, y)
    message = str(info.value)
    for hint in ("learning_rate=", "StandardScaler", "smaller eta0", "solver='gd'"):
        assert hint in message
    np.testing.assert_array_equal(est.coef_, before)
    if solver == "sgd" and learning_rate == "adaptive":
        # A stream's "adaptive" steps are capped by the curvature of its first
        # batch: no eta0 makes them diverge.
        assert np.isfinite(est.partial_fit(X_bad, y).coef_).all()
        return
    with pytest.raises(ValueError, match="diverged"):
        est.partial_fit(X_bad, y)
    np.testing.assert_array_equal(est.coef_, before)


def test_divergence_is_caught_while_the_loss_is_finite(data):
    # A step slightly beyond stability grows the loss geometrically; the fit stops
    # when it is 1e4 times the start, long before overflow.
    X, y = data
    est = GDRegressor(solver="sgd", learning_rate="constant", eta0=0.5, momentum=0)
    with pytest.raises(ValueError, match="diverged") as info:
        est.fit(10 * X, y)
    reached = float(str(info.value).split("reached ")[1].split(" ")[0])
    assert 1e3 < reached < 1e10
    assert not hasattr(est, "coef_")


@pytest.mark.parametrize("solver", SOLVERS)
def test_random_state_reproducibility(data, solver):
    X, y = data
    a = GDRegressor(solver=solver, random_state=3, max_iter=5, tol=None).fit(X, y)
    b = GDRegressor(solver=solver, random_state=3, max_iter=5, tol=None).fit(X, y)
    c = GDRegressor(solver=solver, random_state=4, max_iter=5, tol=None).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.intercept_ == b.intercept_
    assert not np.array_equal(a.coef_, c.coef_)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_equals_dense(solver, fmt):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(200, 8)) * (rng.uniform(size=(200, 8)) < 0.3)
    y = X @ rng.normal(size=8) + 0.1 * rng.normal(size=200) + 1.0
    kw = dict(solver=solver, random_state=0, max_iter=8, tol=None, penalty="l1")
    kw.update(alpha=0.01, average=30)
    dense = GDRegressor(**kw).fit(X, y)
    sparse = GDRegressor(**kw).fit(sp.csr_matrix(X).asformat(fmt), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-7)
    dense.partial_fit(X, y)
    sparse.partial_fit(sp.csr_matrix(X).asformat(fmt), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_stays_float32(data, solver):
    X, y = data
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    est = GDRegressor(solver=solver, random_state=0).fit(X32, y32)
    assert est.coef_.dtype == np.float32
    assert est.intercept_.dtype == np.float32
    assert est.predict(X32).dtype == np.float32
    est.partial_fit(sp.csr_matrix(X32), y32)
    assert est.coef_.dtype == np.float32
    est64 = GDRegressor(solver=solver, random_state=0).fit(X, y)
    np.testing.assert_allclose(est.score(X, y), est64.score(X, y), atol=2e-2)


@pytest.mark.parametrize("solver", SOLVERS)
def test_tol_none_runs_max_iter_and_warnings(data, solver):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = GDRegressor(solver=solver, tol=None, max_iter=7).fit(X, y)
    assert est.n_iter_ == len(est.loss_curve_) == 7
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        GDRegressor(solver=solver, max_iter=2).fit(X, y)


def test_verbose_prints_one_line_per_epoch(data, capsys):
    X, y = data
    GDRegressor(solver="adam", tol=None, max_iter=3, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert all("epoch" in ln and "loss" in ln and "eta" in ln for ln in lines)


def test_huber_resists_outliers(data):
    X, y = data
    rng = np.random.default_rng(0)
    y_out = y.copy()
    bad = rng.choice(len(y), size=30, replace=False)
    y_out[bad] += 20.0
    clean = GDRegressor(tol=1e-10).fit(X, y)
    kw = dict(solver="sgd", random_state=0, alpha=1e-4)
    sq = GDRegressor(**kw).fit(X, y_out)
    hub = GDRegressor(loss="huber", epsilon=1.0, **kw).fit(X, y_out)
    err_sq = np.linalg.norm(sq.coef_ - clean.coef_)
    err_hub = np.linalg.norm(hub.coef_ - clean.coef_)
    assert err_hub < 0.3 * err_sq


@pytest.mark.parametrize("solver", SOLVERS)
def test_multi_target(data, solver):
    X, y = data
    Y = np.column_stack([y, -2 * y + 1])
    kw = dict(solver=solver, random_state=0, tol=None, max_iter=5, shuffle=False)
    both = GDRegressor(**kw).fit(X, Y)
    assert both.coef_.shape == (2, X.shape[1])
    for k in range(2):
        single = GDRegressor(**kw).fit(X, Y[:, k])
        np.testing.assert_allclose(both.coef_[k], single.coef_, rtol=1e-12)
    both.partial_fit(X, Y)
    with pytest.raises(ValueError, match="target"):
        both.partial_fit(X, y)


def test_optimal_needs_positive_alpha(data):
    X, y = data
    with pytest.raises(ValueError, match="alpha must be > 0"):
        GDRegressor(solver="sgd", learning_rate="optimal", alpha=0).fit(X, y)


def test_gd_fit_clears_the_stochastic_state(data):
    X, y = data
    est = GDRegressor(solver="sgd", random_state=0, max_iter=3, tol=None).fit(X, y)
    assert est.t_ > 1
    est.set_params(solver="gd", warm_start=True).fit(X, y)
    assert not hasattr(est, "t_")
    gd_coef = est.coef_.copy()
    est.partial_fit(X, y)  # a fresh stochastic pass from gd's coefficients
    assert est.t_ == 1 + 4  # 600 rows: at least 4 batches (of 150, not 256)
    np.testing.assert_allclose(est.coef_, gd_coef, atol=0.05)


@pytest.mark.parametrize("average", [False, True, 9])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("learning_rate", ["constant", "invscaling"])
def test_batch_size_one_is_sgdregressor_from_scratch(average, sparse, learning_rate):
    # No coef_init / intercept_init, offsets in X, sparse X (damped intercept):
    # SGDRegressor's iterates through fit, partial_fit and a warm start.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 4)) * (rng.uniform(size=(40, 4)) < 0.6) + 0.5
    y = X @ rng.normal(size=4) + 0.3 * rng.normal(size=40) + 1.0
    X = sp.csr_matrix(X) if sparse else X
    kw = dict(learning_rate=learning_rate, eta0=0.02, alpha=0.01, max_iter=4)
    kw.update(tol=None, shuffle=False, average=average)
    ref = SGDRegressor(warm_start=True, **kw)
    ours = GDRegressor(solver="sgd", batch_size=1, momentum=0.0, warm_start=True, **kw)
    for step in ("fit", "partial_fit", "fit"):
        if step == "fit" and average and hasattr(ref, "coef_"):
            # SGDRegressor's lazily updated average carries the last fit's average
            # into a warm start's (its divisor restarts at 1 but the old sum is
            # kept); its warm start is meant as a fit from the last iterate with
            # t_ back to 1, which is what we compare with.
            start = ref._standard_coef.copy(), ref._standard_intercept.copy()
            ref = SGDRegressor(**kw).fit(X, y, *start)
        else:
            getattr(ref, step)(X, y)
        getattr(ours, step)(X, y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_[0], rtol=1e-10)
        assert ours.t_ == ref.t_
    assert hasattr(ours, "_standard_coef") == hasattr(ref, "_standard_coef")
    assert hasattr(ours, "_average_coef") == hasattr(ref, "_average_coef")


def test_batch_size_one_survives_a_transient_blowup_as_sgdregressor():
    # "optimal" with alpha=0.01 starts with steps far beyond stability on unscaled
    # X; its decaying step recovers. SGDRegressor returns that fit, so must we.
    X = np.array([[-2, -1], [-1, -1], [-1, -2], [1, 1], [1, 2], [2, 1]], float)
    y = np.array([1.0, 1, 1, 2, 2, 2])
    kw = dict(learning_rate="optimal", alpha=0.01, max_iter=2, tol=None)
    kw.update(shuffle=False)
    ref = SGDRegressor(**kw).fit(X, y)
    ours = GDRegressor(solver="sgd", batch_size=1, momentum=0.0, **kw).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-10)
    with pytest.raises(ValueError, match="diverged"):
        GDRegressor(solver="sgd", batch_size=2, momentum=0.0, **kw).fit(X, y)


def test_negative_power_t_warns_as_sgdregressor(data):
    X, y = data
    est = GDRegressor(solver="sgd", power_t=-0.5, max_iter=2, tol=None)
    with pytest.warns(FutureWarning, match="Negative values for `power_t`"):
        est.fit(X, y)
    with pytest.warns(FutureWarning, match="Negative values for `power_t`"):
        GDRegressor(power_t=-0.5).partial_fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GDRegressor(solver="gd", power_t=-0.5).fit(X, y)  # unused by "gd"
        GDRegressor(solver="sgd", power_t=0.0, max_iter=2, tol=None).fit(X, y)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda X, y: (np.where(X == X[3, 1], np.nan, X), y), "NaN"),
        (lambda X, y: (np.where(X == X[3, 1], np.inf, X), y), "infinity"),
        (lambda X, y: (X, np.where(y == y[2], np.nan, y)), "NaN"),
        (lambda X, y: (X[:, :5], y), "features"),
        (lambda X, y: (X[:0], y[:0]), "0 sample"),
        (lambda X, y: (X, y[:-1]), "inconsistent numbers of samples"),
    ],
)
def test_partial_fit_stream_checks_keep_sklearn_errors(data, change, match):
    # A fitted stream's numpy chunks skip validate_data when they pass its checks;
    # any chunk that fails one gets validate_data's own error.
    X, y = data
    est = GDRegressor(random_state=0).partial_fit(X, y)
    coef = est.coef_.copy()
    with pytest.raises(ValueError, match=match):
        est.partial_fit(*change(X, y))
    np.testing.assert_array_equal(est.coef_, coef)


def test_partial_fit_stream_fast_path_equals_validated_input(data):
    X, y = data
    fast = GDRegressor(random_state=0).partial_fit(X, y)
    slow = GDRegressor(random_state=0).partial_fit(X, y)
    for _ in range(3):
        fast.partial_fit(X, y)  # plain numpy: checked directly
        slow.partial_fit(X.tolist(), y.tolist())  # lists: through validate_data
    np.testing.assert_array_equal(fast.coef_, slow.coef_)
    assert fast.intercept_ == slow.intercept_


def test_stopping_rule_counts_reduces_and_stops():
    from skgd.solvers._epochs import Stopping

    rule = Stopping(tol=0.1, n_iter_no_change=2, adaptive=True)
    state, actions = rule.init(), []
    # 1.0 is an improvement on inf; 0.95 and 0.92 are not (by less than tol): the
    # step is divided and the count starts again; 0.5 improves; then two stalls
    # with the step at the floor stop the run.
    for loss, eta in [(1.0, 1.0), (0.95, 1.0), (0.92, 1.0), (0.5, 0.2), (0.5, 1e-6)]:
        state, action = rule.update(state, loss, eta=eta)
        actions.append(action)
    assert actions == ["continue", "continue", "reduce", "continue", "continue"]
    state, action = rule.update(state, 0.45, eta=1e-6)
    assert (action, state.no_improvement, state.best_loss) == ("stop", 2, 0.45)
    # A validation score: higher is better, a new best is flagged even below tol.
    rule = Stopping(tol=0.1, n_iter_no_change=1)
    state, action = rule.update(rule.init(), 0.0, score=0.5)
    assert (action, state.new_best) == ("continue", True)
    state, action = rule.update(state, 0.0, score=0.55)
    assert (action, state.new_best, state.best_score) == ("stop", True, 0.55)
    # tol=None never stops.
    rule, state = Stopping(tol=None, n_iter_no_change=1), Stopping(None, 1).init()
    for loss in [1.0, 2.0, 3.0]:
        state, action = rule.update(state, loss)
        assert action == "continue"


def test_run_epochs_threads_the_carry_and_keeps_the_best():
    from skgd.solvers._epochs import Epoch, Stopping, run_epochs

    losses, scores = [3.0, 2.0, 2.0, 2.0, 2.0], [0.1, 0.4, 0.3, 0.2, 0.2]

    def one_epoch(carry, epoch):
        step, params = carry
        report = Epoch(losses[epoch - 1], step, scores[epoch - 1], params=epoch)
        return (step, params + 1), report

    seen = []
    run = run_epochs(
        one_epoch,
        (1.0, 0),
        Stopping(tol=0.0, n_iter_no_change=2, adaptive=True),
        max_iter=5,
        reduce_step=lambda carry, divisor: (carry[0] / divisor, carry[1]),
        callback=lambda epoch, report: seen.append((epoch, report.eta)),
    )
    # Scores 0.3 and 0.2 stall twice: the step is divided at epoch 4, not stopped.
    assert seen == [(1, 1.0), (2, 1.0), (3, 1.0), (4, 1.0), (5, 0.2)]
    assert (run.n_iter, run.converged, run.carry) == (5, False, (0.2, 5))
    assert run.curve == losses
    assert run.scores == scores
    assert (run.best, run.best_score) == (2, 0.4)
