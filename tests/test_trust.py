# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Silent wrong answers turned into right answers or clear errors."""

import os
import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

import skgd._base
import skgd._stream
import skgd.optimizers._rules
from skgd import GDClassifier, GDRegressor, GDRegressorCV, gd_path


def _year_data(n=1000, seed=0):
    # A column whose mean (2000) dwarfs its spread (0.1), and a standard one.
    rng = np.random.default_rng(seed)
    year = 2000 + 0.1 * rng.standard_normal(n)
    x2 = rng.standard_normal(n)
    return np.c_[year, x2], year, x2


@pytest.mark.parametrize(
    "class_weight", [{0: -1.0}, {1: -0.5}, {0: np.nan}, {1: np.inf}, {0: 0, 1: 0}]
)
def test_bad_class_weight_is_refused(class_weight):
    # A negative class weight gave a garbage model, NaN or all-zero weights a
    # message about overflowing feature values.
    X, year, x2 = _year_data(n=100)
    y = (x2 > 0).astype(int)
    with pytest.raises(ValueError, match="class_weight"):
        GDClassifier(class_weight=class_weight).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {"alphas": [-1.0, 0.5]},
        {"alphas": [np.nan, 0.5]},
        {"l1_ratio": np.nan},
        {"l1_ratio": [0.5, np.nan]},
    ],
)
def test_cv_bad_alphas_or_l1_ratio_is_refused(params):
    # ElasticNetCV refuses a negative alpha; here it was fitted, and NaN alphas
    # or l1_ratio were reported as a diverged fit.
    X, _, x2 = _year_data(n=60)
    with pytest.raises(ValueError, match="alphas|l1_ratio"):
        GDRegressorCV(cv=3, **params).fit(X, x2)


@pytest.mark.parametrize("solver", ["gd", "sgd"])
@pytest.mark.parametrize(
    ("n_targets", "shape", "expected"),
    [
        (1, (3,), r"expected \(2,\) or \(1, 2\)\."),
        (1, (2, 2), r"expected \(2,\) or \(1, 2\)\."),
        (2, (2,), r"expected \(2, 2\)\."),
        (2, (3, 2), r"expected \(2, 2\)\."),
    ],
)
def test_wrong_coef_init_names_the_expected_shape(solver, n_targets, shape, expected):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = X[:, 0] if n_targets == 1 else X
    with pytest.raises(ValueError, match=f"coef_init has shape .*; {expected}"):
        GDRegressor(solver=solver).fit(X, y, coef_init=np.zeros(shape))


@pytest.mark.parametrize("first_2d", [False, True])
def test_partial_fit_names_a_change_of_y_dimensions(first_2d):
    # A 1-D y then an (n, 1) y (or the reverse) said "y has 1 target(s) but the
    # model was fitted on 1".
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = X[:, 0]
    ys = (y[:, None], y) if first_2d else (y, y[:, None])
    est = GDRegressor(solver="sgd").partial_fit(X, ys[0])
    with pytest.raises(ValueError, match="1-D y.*2-D y|2-D y.*1-D y"):
        est.partial_fit(X, ys[1])


@pytest.mark.parametrize("solver", ["gd", "sgd"])
def test_float32_column_with_a_large_mean_is_not_constant(solver):
    # float32's own rounding bound called a column of mean 2000 and spread 0.1
    # constant at 1000 rows: coefficient 0, R^2 0.82 (float64: R^2 1).
    X, year, x2 = _year_data()
    y = 3 * (year - 2000) + x2
    est = GDRegressor(alpha=0, solver=solver, random_state=0)
    wide = est.fit(X, y).coef_
    est.fit(X.astype(np.float32), y)
    # The stochastic solver is slow on a column of spread 0.1, but float32 follows
    # float64 there too.
    np.testing.assert_allclose(est.coef_, wide, rtol=1e-3)
    if solver == "gd":
        np.testing.assert_allclose(est.coef_, [3, 1], rtol=1e-3)


def test_float32_year_column_and_separating_feature():
    rng = np.random.default_rng(1)
    year = 2000 + 10 * rng.standard_normal(100_000)
    x2 = rng.standard_normal(100_000)
    X = np.c_[year, x2].astype(np.float32)
    y = 0.5 * (year - 2000) + x2
    est = GDRegressor(alpha=0, solver="gd").fit(X, y)
    np.testing.assert_allclose(est.coef_, [0.5, 1], rtol=0.02)
    X1, year1, _ = _year_data()
    labels = (year1 > 2000).astype(int)
    clf = GDClassifier(solver="gd").fit(X1[:, :1].astype(np.float32), labels)
    assert clf.score(X1[:, :1].astype(np.float32), labels) > 0.95


@pytest.mark.parametrize("n", [1000, 100_003])
@pytest.mark.parametrize("value", [0.1, 2000.37, 123456.7])
@pytest.mark.parametrize("kind", ["dense", "csr", "csc", "weighted"])
def test_float32_constant_column_keeps_a_zero_coefficient(n, value, kind):
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = np.c_[np.full(n, value), rng.standard_normal(n)].astype(np.float32)
    y = X[:, 1].astype(np.float64) + 1
    weight = rng.uniform(0.5, 2, n) if kind == "weighted" else None
    data = {"csr": sp.csr_matrix, "csc": sp.csc_matrix}.get(kind, np.asarray)(X)
    est = GDRegressor(alpha=0, solver="gd").fit(data, y, sample_weight=weight)
    assert est.coef_[0] == 0
    np.testing.assert_allclose(est.coef_[1], 1, rtol=1e-3)


def test_float32_dask_columns_are_decided_in_float64():
    da = pytest.importorskip("dask.array")
    X, year, x2 = _year_data()
    X = np.c_[X, np.full(1000, 2000.37)].astype(np.float32)
    y = 3 * (year - 2000) + x2
    est = GDRegressor(alpha=0, solver="gd").fit(da.from_array(X, chunks=(250, 3)), y)
    np.testing.assert_allclose(est.coef_[:2], [3, 1], rtol=0.05)
    assert est.coef_[2] == 0


def test_float32_column_whose_squares_underflow_is_refused():
    # Its float32 moment is 0 (the column looked constant) but float64 sees a spread.
    rng = np.random.default_rng(0)
    X = np.c_[1e-25 * rng.standard_normal(100), rng.standard_normal(100)]
    with pytest.raises(ValueError, match="underflow float32.*float64"):
        GDRegressor().fit(X.astype(np.float32), X[:, 1])


def _linear_problem(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(n)
    return X, y


# Both fits run the same iterations (the scale is a power of two): whether they
# converge does not matter here.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    ("dtype", "scale"),
    [
        (np.float64, 1e200),
        (np.float64, 1e-200),
        (np.float64, 1e300),
        (np.float64, 1e-300),
        (np.float32, 1e20),
        (np.float32, 1e-25),
    ],
)
@pytest.mark.parametrize(
    ("loss", "penalty", "alpha"),
    [
        ("squared_error", None, 0.0),
        ("squared_error", "l2", 0.1),
        ("squared_error", "l1", 0.01),
        ("huber", "l2", 0.01),
        ("epsilon_insensitive", "l2", 0.01),
    ],
)
def test_targets_of_any_finite_scale_are_fitted(dtype, scale, loss, penalty, alpha):
    # Their squares overflowed or underflowed: an all-zero model reported as
    # converged. The problem in y * s with the penalty's and the loss's parameters
    # scaled to match is s times the problem in y. (Not elastic net: its l1_ratio
    # cannot express both parts at these scales.)
    X, y = _linear_problem()
    X = X.astype(dtype)
    tol = 1e-4 if dtype == np.float32 else 1e-7
    params = {"loss": loss, "penalty": penalty, "solver": "gd", "tol": tol}
    ref = GDRegressor(alpha=alpha, epsilon=0.1, **params).fit(X, y)
    alpha_s, eps_s = _scaled_params(loss, penalty, alpha, 0.1, scale)
    est = GDRegressor(alpha=alpha_s, epsilon=eps_s, **params).fit(X, y * scale)
    rtol = 1e-3 if dtype == np.float32 else 1e-6
    np.testing.assert_allclose(est.coef_ / scale, ref.coef_, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(est.intercept_ / scale, ref.intercept_, rtol=rtol)


def _scaled_params(loss, penalty, alpha, epsilon, s):
    # The data term scales as s**d (d: the loss's degree in the residual), the
    # L1 penalty as s, the L2 penalty as s**2.
    d = 1 if loss == "epsilon_insensitive" else 2
    factor = {None: 1.0, "l1": s ** (d - 1), "l2": s ** (d - 2)}[penalty]
    return alpha * factor, epsilon * s


def test_target_scale_on_dask_and_the_stochastic_solvers():
    da = pytest.importorskip("dask.array")
    X, y = _linear_problem()
    ref = GDRegressor(solver="gd").fit(X, y)
    est = GDRegressor(solver="gd").fit(da.from_array(X, chunks=(50, 3)), y * 1e200)
    np.testing.assert_allclose(est.coef_ / 1e200, ref.coef_, rtol=1e-6)
    # The stochastic solvers refused tiny targets, and overflowed at their first
    # step on large ones: they fit them now (see the tests below).
    for scale in (1e-200, 1e200):
        for fit in (GDRegressor(solver="sgd").fit, GDRegressor().partial_fit):
            coef = fit(X, y * scale).coef_ / scale
            assert np.all(np.isfinite(coef))
            assert np.all(coef != 0)


# The stochastic runs below take a fixed number of epochs at a fixed step: the
# paths are compared, not where tol would stop them.
_STOCHASTIC = {"tol": None, "max_iter": 20, "learning_rate": "constant", "eta0": 0.01}
_EXTREME_SCALES = [
    (np.float64, 1e200),
    (np.float64, 1e-200),
    (np.float32, 1e20),
    (np.float32, 1e-25),
]


def _two_calls(est, X, y):
    est.partial_fit(X[:100], y[:100])
    return est.partial_fit(X[100:], y[100:])


def _assert_scaled_fit(est, ref, scale, rtol, intercept_rtol=None):
    # Never an all-zero or NaN model: the coefficients of the fit in y, scaled.
    assert np.all(np.isfinite(est.coef_))
    assert np.all(est.coef_ != 0)
    np.testing.assert_allclose(est.coef_ / scale, ref.coef_, rtol=rtol)
    np.testing.assert_allclose(
        est.intercept_ / scale, ref.intercept_, rtol=intercept_rtol or rtol
    )


@pytest.mark.parametrize("how", ["fit", "partial_fit"])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize(("dtype", "scale"), _EXTREME_SCALES)
@pytest.mark.parametrize(
    ("loss", "penalty", "alpha"),
    [
        ("squared_error", "l2", 0.01),
        ("squared_error", "l1", 0.01),
        ("huber", "l2", 0.01),
    ],
)
def test_stochastic_targets_of_any_finite_scale_are_fitted(
    how, solver, dtype, scale, loss, penalty, alpha
):
    # "sgd" and "adam" refused tiny targets and overflowed on large ones. They
    # fit y / s' (s' a power of two near the scale, fixed by a stream's first
    # call) and map back. A loss of degree 2 (huber with epsilon * s) under a
    # constant step gives "sgd" the path in y * s of s times its path in y, to
    # rounding (float64: 1e-15 seen, float32: 4e-7). Adam's steps, m / (sqrt(v) +
    # adam_eps), are homogeneous up to adam_eps: its coefficients follow the same
    # path to rounding too, but the intercept of fit, whose gradient vanishes
    # under fit's centering, moves by steps of adam_eps's size, another path to
    # the same optimum (7e-2 seen after 20 epochs).
    X, y = _linear_problem()
    X = X.astype(dtype)
    params = {"loss": loss, "penalty": penalty, "solver": solver, "random_state": 0}
    alpha_s, eps_s = _scaled_params(loss, penalty, alpha, 0.1, scale)
    ref = GDRegressor(alpha=alpha, epsilon=0.1, **params, **_STOCHASTIC)
    est = GDRegressor(alpha=alpha_s, epsilon=eps_s, **params, **_STOCHASTIC)
    if how == "fit":
        ref.fit(X, y), est.fit(X, y * scale)
    else:
        _two_calls(ref, X, y), _two_calls(est, X, y * scale)
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    loose = 0.2 if solver == "adam" and how == "fit" and loss != "huber" else None
    _assert_scaled_fit(est, ref, scale, rtol, loose)
    # The scale is a power of two, carried from the first call of a stream.
    first = y * scale if how == "fit" else y[:100] * scale
    assert est.target_scale_ == 2.0 ** np.frexp(np.max(np.abs(first)))[1]


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_stochastic_targets_of_any_finite_scale_on_dask(solver, scale):
    da, X, y, dX = _dask_problem(n=200)
    params = {"solver": solver, "random_state": 0, **_STOCHASTIC}
    ref = GDRegressor(**params).fit(dX, da.from_array(y, chunks=40))
    est = GDRegressor(**params).fit(dX, da.from_array(y * scale, chunks=40))
    _assert_scaled_fit(est, ref, scale, 1e-10)
    ref, est = GDRegressor(**params), GDRegressor(**params)
    for chunk in (slice(0, 120), slice(120, 200)):
        dXc = da.from_array(X[chunk], chunks=(40, 3))
        ref.partial_fit(dXc, da.from_array(y[chunk], chunks=40))
        est.partial_fit(dXc, da.from_array(y[chunk] * scale, chunks=40))
    _assert_scaled_fit(est, ref, scale, 1e-10)


@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
@pytest.mark.parametrize(("a", "b"), [(1e200, 1.0), (1.0, 1e-200), (1e300, 1e-300)])
def test_columns_of_y_too_far_apart_in_scale_are_named(solver, a, b):
    # The columns of a 2-D y share one scale. A column at 1 next to one at
    # 1e200 reached the stochastic solvers in units of 1e-200, where their
    # stopping rule (in the targets' units) stops at once: far from its optimum
    # and reported as converged (Adam: coefficients of 1e78). "gd", whose
    # measures are relative, fits it, unless its values underflow at the other
    # column's scale (1e300 and 1e-300: a column of zeros). Otherwise a clear
    # error.
    X, y = _linear_problem()
    Y = np.c_[y * a, y * b]
    est = GDRegressor(solver=solver, random_state=0)
    if solver == "gd" and a / b < 1e300:
        ref = GDRegressor(solver="gd").fit(X, y)
        est.fit(X, Y)
        np.testing.assert_allclose(est.coef_ / [[a], [b]], [ref.coef_] * 2)
        return
    with pytest.raises(ValueError, match="columns of y differ too much in scale"):
        est.fit(X, Y)


def test_a_stream_carries_the_scale_of_its_first_call():
    X, y = _linear_problem()
    params = {"solver": "sgd", "random_state": 0, **_STOCHASTIC}
    # A stream's state is in the units of its first call: a later call of
    # another scale is divided by the same, and one that would overflow at it
    # says so (and changes nothing).
    est = GDRegressor(**params).partial_fit(X[:100], y[:100])
    assert est.target_scale_ == 1.0
    before = _fitted_state(est)
    with pytest.raises(ValueError, match="too large for this stream.*fixed"):
        est.partial_fit(X[100:], y[100:] * 1e200)
    assert _fitted_state(est) == before
    est = GDRegressor(**params).partial_fit(X[:100], y[:100] * 1e-200)
    first = est.target_scale_
    est.partial_fit(X[100:], y[100:] * 1e-190)
    assert est.target_scale_ == first
    # A warm start across a change of scale (y * 1e200, then y * 2e200: the
    # scale doubles) goes on from the same point, and a pass after a "gd" fit
    # starts from its coefficients.
    ref = GDRegressor(**params, warm_start=True).fit(X, y).fit(X, 2 * y)
    est = GDRegressor(**params, warm_start=True).fit(X, y * 1e200)
    _assert_scaled_fit(est.fit(X, y * 2e200), ref, 1e200, 1e-10)
    gd = GDRegressor(solver="gd", random_state=0)
    ref = clone(gd).fit(X, y).partial_fit(X, y)
    est = clone(gd).fit(X, y * 1e-200).partial_fit(X, y * 1e-200)
    _assert_scaled_fit(est, ref, 1e-200, 1e-10)


@pytest.mark.parametrize("solver", ["gd", "sgd"])
@pytest.mark.parametrize(
    ("dtype", "weight"), [(np.float64, 1e307), (np.float32, 1e37), (np.float64, 1e-320)]
)
@pytest.mark.parametrize("kind", ["numpy", "dask"])
def test_weights_of_any_finite_sum_are_fitted(solver, dtype, weight, kind):
    # Their sum overflowed: an all-zero model with intercept 0 (Dask: a ValueError).
    # The optimum does not depend on the weights' overall scale.
    X, y = _linear_problem(n=100)
    X = X.astype(dtype)
    weights = np.linspace(0.5, 1.5, 100) * weight  # (subnormal: a few bits left)
    # The same relative weights, at a usual scale (a power of two apart: exact).
    relative = np.ldexp(weights, -np.frexp(weights.max())[1])
    ref = GDRegressor(solver=solver, random_state=0).fit(X, y, sample_weight=relative)
    if kind == "dask":
        da = pytest.importorskip("dask.array")
        X = da.from_array(X, chunks=(50, 3))
    est = GDRegressor(solver=solver, random_state=0)
    est.fit(X, y, sample_weight=weights)
    rtol = 1e-4 if dtype == np.float32 else 1e-6
    if solver == "sgd":
        # (SGD's steps depend on the weights: only its model must be right.)
        assert est.score(np.asarray(X), y) > 0.95
    else:
        np.testing.assert_allclose(est.coef_, ref.coef_, rtol=rtol)
        np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=rtol)


def test_class_weight_times_large_sample_weights_is_fitted():
    X, y = _linear_problem(n=200)
    labels = (y > 0).astype(int)
    sw = np.full(200, 1e307)
    ref = GDClassifier(class_weight={0: 10, 1: 1}).fit(X, labels)
    est = GDClassifier(class_weight={0: 10, 1: 1}).fit(X, labels, sample_weight=sw)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6)


def _dask_problem(n=120):
    da = pytest.importorskip("dask.array")
    X, y = _linear_problem(n=n)
    return da, X, y, da.from_array(X, chunks=(40, 3))


def test_dask_continuous_labels_are_refused_as_numpy_does():
    # They fitted a model of one class per distinct value.
    da, X, y, dX = _dask_problem()
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        GDClassifier().fit(X, y)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        GDClassifier().fit(dX, da.from_array(y, chunks=40))


def test_dask_nan_labels_get_numpy_error_without_partial_fit():
    da, X, y, dX = _dask_problem()
    labels = (y > 0).astype(float)
    labels[3] = np.nan
    with pytest.raises(ValueError, match="NaN") as numpy_error:
        GDClassifier().fit(X, labels)
    with pytest.raises(ValueError, match="NaN") as dask_error:
        GDClassifier().fit(dX, da.from_array(labels, chunks=40))
    assert "partial_fit" not in str(dask_error.value)
    assert str(dask_error.value) == str(numpy_error.value)


def test_dask_two_dimensional_y_is_accepted_like_numpy():
    da, X, y, dX = _dask_problem()
    Y = np.c_[y, -y]
    ref = GDRegressor(solver="gd").fit(X, Y)
    est = GDRegressor(solver="gd").fit(dX, da.from_array(Y, chunks=(40, 2)))
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-6)
    labels = (y > 0).astype(int)
    with pytest.warns(Warning, match="column-vector y"):
        clf = GDClassifier().fit(dX, da.from_array(labels[:, None], chunks=(40, 1)))
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    with pytest.raises(ValueError, match="1d array"):
        GDClassifier().fit(dX, da.from_array(np.c_[labels, labels], chunks=(40, 2)))


def _fitted_state(est):
    return {k: pickle.dumps(v) for k, v in vars(est).items() if k != "_dask_curve"}


@pytest.mark.parametrize("make", [GDRegressor, GDClassifier])
@pytest.mark.parametrize("names", [False, True])
def test_failed_refit_on_another_width_changes_nothing(monkeypatch, make, names):
    # Validation set n_features_in_ / feature_names_in_ before the solve: a refit
    # that raised left them at the new width with the old coef_, and predict on
    # the original data failed.
    pd = pytest.importorskip("pandas") if names else None
    X, y = _linear_problem(n=60)
    y = (y > 0).astype(int) if make is GDClassifier else y
    wide = np.c_[X, X[:, :1]]
    if names:
        X = pd.DataFrame(X, columns=["a", "b", "c"])
        wide = pd.DataFrame(wide, columns=["a", "b", "c", "d"])
    est = make().fit(X, y)
    before, expected = _fitted_state(est), est.predict(X)

    def broken(*args, **kwargs):
        raise RuntimeError("solver failure")

    monkeypatch.setattr(skgd._base, "full_batch_solver", lambda *a: ("gd", broken))
    with pytest.raises(RuntimeError, match="solver failure"):
        est.fit(wide, y)
    assert _fitted_state(est) == before
    np.testing.assert_array_equal(est.predict(X), expected)
    monkeypatch.undo()
    assert est.fit(wide, y).n_features_in_ == 4


def test_interrupted_dask_stochastic_refit_changes_nothing(monkeypatch):
    # The Dask stream wrote coef_ after each chunk: an interrupted fit left
    # half-trained coefficients (and a new width).
    da, X, y, dX = _dask_problem()
    est = GDRegressor(solver="sgd", random_state=0, max_iter=3, tol=None)
    est.fit(dX, y)
    before, expected = _fitted_state(est), est.predict(X)
    original, calls = skgd._stream.fit_minibatch, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(skgd._stream, "fit_minibatch", interrupted)
    wide = da.from_array(np.c_[X, X[:, :1]], chunks=(40, 4))
    for data in (dX, wide):
        calls.clear()
        with pytest.raises(KeyboardInterrupt):
            est.fit(data, y)
        assert _fitted_state(est) == before
        np.testing.assert_array_equal(est.predict(X), expected)


def _interrupt(monkeypatch, solver, after):
    """Make the next fits raise KeyboardInterrupt partway through their solve:
    "gd" at its first iteration, "sgd" and "adam" at their ``after``-th update."""
    if solver == "gd":
        original = skgd._base.full_batch_solver

        def interrupted(*args):
            name, solve = original(*args)

            def stop(iteration, w, value):
                raise KeyboardInterrupt

            return name, lambda *a, **kw: solve(*a, **{**kw, "callback": stop})

        monkeypatch.setattr(skgd._base, "full_batch_solver", interrupted)
        return
    rule = getattr(skgd.optimizers._rules, "Adam" if solver == "adam" else "Momentum")
    update, calls = rule.update, []

    def interrupted_update(self, grad, state, eta):
        calls.append(1)
        if len(calls) == after:
            raise KeyboardInterrupt
        return update(self, grad, state, eta)

    monkeypatch.setattr(rule, "update", interrupted_update)


@pytest.mark.parametrize("kind", ["numpy", "dask"])
@pytest.mark.parametrize("solver", ["gd", "sgd", "adam"])
@pytest.mark.parametrize("make", [GDRegressor, GDClassifier])
def test_interrupted_refit_on_another_width_changes_nothing(
    monkeypatch, make, solver, kind
):
    # Everything a fit sets waits for the solve: a refit interrupted on data of
    # another width (after some chunks of a Dask stream were passed), and an
    # interrupted partial_fit, leave every attribute, optimizer state included,
    # as it was; the stream then goes on as if they had not run.
    X, y = _linear_problem(n=120)
    y = (y > 0).astype(int) if make is GDClassifier else y
    wide = np.c_[X, X[:, :1]]
    if kind == "dask":
        da = pytest.importorskip("dask.array")
        X, wide = (da.from_array(a, chunks=(40, a.shape[1])) for a in (X, wide))
        y = da.from_array(y, chunks=40)
    params = {"solver": solver, "random_state": 0, "max_iter": 3, "tol": None}
    params["batch_size"] = 16  # (8 updates an epoch, 4 for a 40-row chunk)
    est, twin = make(**params).fit(X, y), make(**params).fit(X, y)
    before = _fitted_state(est)
    _interrupt(monkeypatch, solver, after=6)
    with pytest.raises(KeyboardInterrupt):
        est.fit(wide, y)
    assert _fitted_state(est) == before
    if solver != "gd":
        _interrupt(monkeypatch, solver, after=6)
        with pytest.raises(KeyboardInterrupt):
            est.partial_fit(X, y)
        assert _fitted_state(est) == before
    monkeypatch.undo()
    if solver != "gd":
        est.partial_fit(X, y), twin.partial_fit(X, y)
    np.testing.assert_array_equal(est.coef_, twin.coef_)
    np.testing.assert_array_equal(est.predict(X), twin.predict(X))


@pytest.mark.parametrize("make", [GDRegressor, GDClassifier])
@pytest.mark.parametrize("warm_start", [False, True])
def test_dask_stochastic_refit_starts_as_a_new_fit(make, warm_start):
    # The chunk passes of a new fit started from the last fit's coef_: a
    # second fit differed from the first, and one on another width raised
    # "coef_init has shape (3,)". A warm start across a change of width starts
    # afresh, as in memory.
    da, X, y, dX = _dask_problem()
    y = (y > 0).astype(int) if make is GDClassifier else y
    wide = da.from_array(np.c_[X, X[:, :1]], chunks=(40, 4))
    params = {"solver": "sgd", "random_state": 0, "max_iter": 3, "tol": None}
    for data in (dX, wide):
        fresh = make(**params).fit(data, y).coef_
        est = make(**params, warm_start=warm_start).fit(dX, y)
        if warm_start and data is dX:
            continue  # (a warm start on the same width goes on: its own test)
        np.testing.assert_array_equal(est.fit(data, y).coef_, fresh)


@pytest.mark.array_api
@pytest.mark.skipif(
    os.environ.get("SCIPY_ARRAY_API") != "1",
    reason="array_api_dispatch needs SCIPY_ARRAY_API=1 set before scipy is imported",
)
def test_string_labels_with_an_array_api_x_get_a_clear_error():
    # They gave a TypeError from deep inside the namespace's asarray.
    torch = pytest.importorskip("torch")
    sklearn = pytest.importorskip("sklearn")
    X, y = _linear_problem(n=60)
    labels = np.where(y > 0, "yes", "no")
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="strings.*LabelEncoder"):
            GDClassifier().fit(torch.asarray(X), labels)
        with pytest.raises(ValueError, match="strings.*LabelEncoder"):
            GDClassifier().fit(torch.asarray(X), list(labels))


@pytest.mark.array_api
@pytest.mark.skipif(
    os.environ.get("SCIPY_ARRAY_API") != "1",
    reason="array_api_dispatch needs SCIPY_ARRAY_API=1 set before scipy is imported",
)
@pytest.mark.parametrize(
    ("dtype", "weight", "scale"),
    [
        (np.float64, 1e307, 1e200),
        (np.float64, 1e-320, 1e-200),
        (np.float32, 1e37, 1e20),
    ],
)
def test_array_api_weights_and_targets_of_any_finite_scale(dtype, weight, scale):
    # Weights whose sum overflowed gave an all-zero model with intercept 0 on
    # Array API input as on numpy: torch CPU tensors get numpy's fit, with
    # extreme weights and targets together.
    torch = pytest.importorskip("torch")
    sklearn = pytest.importorskip("sklearn")
    X, y = _linear_problem(n=100)
    X = X.astype(dtype)
    weights = np.linspace(0.5, 1.5, 100) * weight
    relative = np.ldexp(weights, -np.frexp(weights.max())[1])
    ref = GDRegressor(solver="gd").fit(X, y, sample_weight=relative)
    with sklearn.config_context(array_api_dispatch=True):
        est = GDRegressor(solver="gd").fit(
            torch.asarray(X),
            torch.asarray((y * scale).astype(dtype)),
            sample_weight=torch.asarray(weights.astype(dtype)),
        )
    rtol = 1e-3 if dtype == np.float32 else 1e-6
    np.testing.assert_allclose(est.coef_.cpu().numpy() / scale, ref.coef_, rtol=rtol)
    np.testing.assert_allclose(float(est.intercept_) / scale, ref.intercept_, rtol=rtol)


@pytest.mark.parametrize("zipmap", [True, False])
def test_onnx_uint64_labels_beyond_int64_are_refused_at_conversion(zipmap):
    # They came out of the graph wrapped to negative int64 labels.
    skl2onnx = pytest.importorskip("skl2onnx")
    pytest.importorskip("onnxruntime")
    import skgd

    skgd.register_onnx_converter()
    X, y = _linear_problem(n=60)
    labels = np.where(y > 0, 2**63 + 5, 7).astype(np.uint64)
    clf = GDClassifier().fit(X, labels)
    with pytest.raises((RuntimeError, ValueError), match="int64"):
        skl2onnx.to_onnx(clf, X[:1].astype(np.float32), options={"zipmap": zipmap})
    # Labels within int64's range, uint64 included, still convert.
    clf.fit(X, np.where(y > 0, 2**63 - 1, 7).astype(np.uint64))
    skl2onnx.to_onnx(clf, X[:1].astype(np.float32), options={"zipmap": zipmap})


@pytest.mark.parametrize("scale", [1e200, 1e100, 1e-200, 1e-300])
def test_gd_path_fits_targets_of_any_finite_scale(scale):
    # The path's objective overflowed or underflowed as the estimators' did. The
    # L1 path in y * s is s times the path in y, its grid s times the grid.
    X, y = _linear_problem()
    alphas, coefs, intercepts = gd_path(X, y, l1_ratio=1.0, alphas=5, tol=1e-10)
    alphas_s, coefs_s, intercepts_s = gd_path(
        X, y * scale, l1_ratio=1.0, alphas=5, tol=1e-10
    )
    np.testing.assert_allclose(alphas_s / scale, alphas, rtol=1e-12)
    np.testing.assert_allclose(coefs_s / scale, coefs, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(intercepts_s / scale, intercepts, rtol=1e-6)
    # An elastic net is not scale-covariant (its L2 part does not scale): each
    # solution is the estimator's, which maps the two parts separately.
    grid = [alphas_s[1], alphas_s[3]]
    _, coefs_e, intercepts_e = gd_path(
        X, y * scale, l1_ratio=0.5, alphas=grid, tol=1e-10
    )
    for k, alpha in enumerate(grid):
        est = GDRegressor(
            penalty="elasticnet", alpha=alpha, l1_ratio=0.5, solver="gd", tol=1e-10
        ).fit(X, y * scale)
        np.testing.assert_allclose(
            coefs_e[:, k] / scale, est.coef_ / scale, rtol=1e-6, atol=1e-9
        )
        np.testing.assert_allclose(intercepts_e[k], est.intercept_, rtol=1e-6)


@pytest.mark.parametrize("scale", [1e200, 1e100, 1e-200])
def test_cv_fits_targets_of_any_finite_scale(scale):
    X, y = _linear_problem()
    ref = GDRegressorCV(cv=3, l1_ratio=1.0, alphas=8, tol=1e-10).fit(X, y)
    est = GDRegressorCV(cv=3, l1_ratio=1.0, alphas=8, tol=1e-10).fit(X, y * scale)
    np.testing.assert_allclose(est.alphas_ / scale, ref.alphas_, rtol=1e-12)
    assert est.alpha_ / scale == pytest.approx(ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(est.coef_ / scale, ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(est.intercept_ / scale, ref.intercept_, rtol=1e-6)
    if scale == 1e100:  # (the squared errors of the others overflow or underflow)
        mse = est.mse_path_ / scale / scale
        np.testing.assert_allclose(mse, ref.mse_path_, rtol=1e-6)


def test_gd_path_and_cv_fit_weights_of_any_finite_sum():
    X, y = _linear_problem()
    weights = np.linspace(0.5, 1.5, 200)
    huge = weights * 1e307
    relative = np.ldexp(huge, -np.frexp(huge.max())[1])  # exact, a usual sum
    ref = gd_path(X, y, l1_ratio=1.0, alphas=5, sample_weight=relative, tol=1e-10)
    got = gd_path(X, y, l1_ratio=1.0, alphas=5, sample_weight=huge, tol=1e-10)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    cv_ref = GDRegressorCV(cv=3, alphas=8).fit(X, y, sample_weight=relative)
    cv = GDRegressorCV(cv=3, alphas=8).fit(X, y, sample_weight=huge)
    assert cv.alpha_ == pytest.approx(cv_ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(cv.coef_, cv_ref.coef_, rtol=1e-6)
    np.testing.assert_allclose(cv.mse_path_, cv_ref.mse_path_, rtol=1e-6)


def _huber_grad(X, y, coef, intercept, epsilon):
    # The mean Huber loss's gradient in (coef, intercept), in float64.
    r = y - X @ coef - intercept
    psi = np.clip(r, -epsilon, epsilon)
    return -X.T @ psi / len(y), -psi.mean()


def _penalty_free_fit(X, y, loss):
    # An independent reference: least squares by lstsq, Huber by scipy's L-BFGS.
    from scipy.optimize import minimize

    A = np.c_[X, np.ones(len(y))]
    z = np.linalg.lstsq(A, y, rcond=None)[0]
    if loss == "huber":

        def fun(z):
            r = y - A @ z
            a = np.abs(r)
            value = np.where(a <= 0.1, 0.5 * r * r, 0.1 * a - 0.005).mean()
            g_w, g_c = _huber_grad(X, y, z[:-1], z[-1], 0.1)
            return value, np.r_[g_w, g_c]

        z = minimize(fun, z, jac=True, method="L-BFGS-B", tol=1e-15).x
    return z[:-1], z[-1]


@pytest.mark.parametrize("solver", ["auto", "gd", "newton"])
@pytest.mark.parametrize("loss", ["squared_error", "huber"])
@pytest.mark.parametrize(
    ("penalty", "alpha"),
    [
        ("l1", 1e-16),
        ("l1", 1e-20),
        ("l1", 1e-300),
        ("l2", 1e-300),
        ("elasticnet", 1e-300),
    ],
)
def test_penalties_below_rounding_are_certified(solver, loss, penalty, alpha):
    # They reached the exact coefficients but their duality gap stayed at the
    # rounding level of the gradient (divided by alpha for L2): max_iter and a
    # ConvergenceWarning. The fit is the penalty-free one to rounding. (With
    # huber and an L2 part Newton's first step, every residual on the linear
    # part, solves a Hessian of 1e-300 I and overflows: "gd" goes on.)
    X, y = _linear_problem(n=100)
    y = y + np.random.default_rng(1).standard_normal(100)  # residuals past epsilon
    est = GDRegressor(loss=loss, penalty=penalty, alpha=alpha, solver=solver)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    coef, intercept = _penalty_free_fit(X, y, loss)
    np.testing.assert_allclose(est.coef_, coef, rtol=1e-5)
    np.testing.assert_allclose(est.intercept_, intercept, rtol=1e-5)


def test_a_stalled_newton_fit_says_that_gd_goes_on(capsys):
    # Newton's overflowing step is not a diverged fit: "gd" goes on from its
    # last point, and the verbose output says so.
    X, y = _linear_problem(n=100)
    y = y + np.random.default_rng(1).standard_normal(100)
    est = GDRegressor(loss="huber", alpha=1e-300, solver="newton", verbose=1)
    est.fit(X, y)
    out = capsys.readouterr().out
    assert "[newton] stalled after 0 steps (its line search" in out
    assert "solver='gd' goes on" in out
    assert len(est.loss_curve_) == est.n_iter_ > 0


@pytest.mark.parametrize(
    ("penalty", "alpha", "scales", "finisher"),
    [
        # Huber's Hessian is 1e-300 I on its linear part: Newton stalls.
        ("l2", 1e-300, [1.0, 1.0, 1.0], "gd"),
        # No decrease along Newton's step across scales 1e-50 to 1e50.
        ("l2", 1e-4, [1e-50, 1.0, 1e50], "gd"),
        # The same scales with L1: Newton goes on, and finishes, itself.
        ("l1", 1e-4, [1e-50, 1.0, 1e50], "newton"),
    ],
)
def test_the_convergence_warning_names_the_solver_that_finished(
    capsys, penalty, alpha, scales, finisher
):
    # Newton's hand-off to "gd" showed only in the verbose output: a fit that
    # stalls in Newton and runs out of iterations in "gd" warns in the name of
    # "gd", whose measure the warning gives, after the verbose line that says
    # "gd" goes on; a fit that stays in Newton warns as Newton.
    X, y = _linear_problem(n=100)
    y = y + np.random.default_rng(1).standard_normal(100)
    est = GDRegressor(
        loss="huber", penalty=penalty, alpha=alpha, solver="newton", tol=1e-8
    )
    est.set_params(max_iter=4, verbose=1)
    with pytest.warns(ConvergenceWarning) as record:
        est.fit(X * np.array(scales), y)
    messages = [str(w.message) for w in record]
    assert len(messages) == 1
    assert messages[0].startswith(f"solver='{finisher}' reached max_iter=4 ")
    handed_over = "solver='gd' goes on" in capsys.readouterr().out
    assert handed_over == (finisher == "gd")
    assert est.n_iter_ == len(est.loss_curve_) == 4


@pytest.mark.parametrize("solver", ["auto", "gd", "newton"])
@pytest.mark.parametrize("loss", ["squared_error", "huber"])
@pytest.mark.parametrize("penalty", ["l1", "l2", "elasticnet"])
def test_feature_scales_from_1e_minus_50_to_1e50_are_certified(solver, loss, penalty):
    # The gradient's coordinate of a column of scale 1e50 carries a rounding of
    # 1e50 times that of a unit column: the gap (its square over alpha for L2)
    # could not fall below it. The KKT conditions, checked here in float64 in
    # each column's own units, hold to tol.
    X, y = _linear_problem(n=100)
    y = y + np.random.default_rng(1).standard_normal(100)
    scales = 10.0 ** np.array([-50.0, 0.0, 50.0])
    Xs = X * scales
    est = GDRegressor(loss=loss, penalty=penalty, solver=solver, tol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(Xs, y)
    l1_ratio = {"l1": 1.0, "l2": 0.0, "elasticnet": 0.15}[penalty]
    l1, l2 = est.alpha * l1_ratio, est.alpha * (1 - l1_ratio)
    if loss == "huber":
        g_w, g_c = _huber_grad(Xs, y, est.coef_, est.intercept_, 0.1)
    else:
        r = y - Xs @ est.coef_ - est.intercept_
        g_w, g_c = -Xs.T @ r / len(y), -r.mean()
    w = est.coef_
    # The subgradient residual of each coordinate, over its column's scale.
    residual = np.where(
        w != 0,
        np.abs(g_w + l2 * w + l1 * np.sign(w)),
        np.maximum(np.abs(g_w) - l1, 0.0),
    )
    assert np.all(residual / (scales * np.std(y)) <= 1e-5), residual / scales
    assert abs(g_c) <= 1e-8 * np.std(y)
