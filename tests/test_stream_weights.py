# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""A partial_fit stream keeps one unit for its sample weights, fixed at its first call.

The stochastic solvers' steps scale with the weights, so weights brought to a
usual scale call by call (each by its own power of two) changed their relative
sizes from chunk to chunk: a stream weighted 0.9e307 then 0.3e307 fitted weights
0.8 then 0.53, not 0.8 then 0.27.
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from skgd import GDClassifier, GDRegressor

_PARAMS = {
    "random_state": 0,
    "learning_rate": "constant",
    "eta0": 0.01,
    "tol": None,
    "max_iter": 5,
}


def _sgd(make, **params):
    """Return ``make(solver="sgd")`` with the stream tests' parameters and
    ``params``."""
    return make(**{"solver": "sgd", **_PARAMS, **params})


def _problem(n=200, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.1 * rng.standard_normal(n)
    return X, y


def _problem_for(make):
    """Return ``_problem()``'s X and y, and the classes to pass on a stream's first
    call: y > 0 as labels 0 and 1 where ``make`` is the classifier, else None."""
    X, y = _problem()
    if make is GDClassifier:
        return X, (y > 0).astype(int), [0, 1]
    return X, y, None


def _stream(est, X, y, weights, kind="numpy", classes=None):
    """Feed ``est`` two chunks of 100 rows, the i-th weighted ``weights[i]``."""
    for i, w in enumerate(weights):
        rows = slice(100 * i, 100 * (i + 1))
        Xc, yc = X[rows], y[rows]
        sw = None if w is None else np.full(100, w)
        if kind == "dask":
            da = pytest.importorskip("dask.array")
            Xc, yc = da.from_array(Xc, chunks=(50, 3)), da.from_array(yc, chunks=50)
            sw = None if sw is None else da.from_array(sw, chunks=50)
        extra = {"classes": classes} if classes is not None and i == 0 else {}
        est.partial_fit(Xc, yc, sample_weight=sw, **extra)
    return est


def _relative(weights):
    # The same relative weights at a usual scale: a power of two apart, exact.
    top = np.frexp(max(weights))[1]
    return [np.ldexp(w, -top) for w in weights]


@pytest.mark.parametrize("kind", ["numpy", "dask"])
@pytest.mark.parametrize("make", [GDRegressor, GDClassifier])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("weights", [(0.9e307, 0.3e307), (3e-300, 1e-300)])
def test_a_stream_keeps_the_weights_relative_across_calls(kind, make, solver, weights):
    X, y, classes = _problem_for(make)
    est = _sgd(make, solver=solver)
    ref = _stream(clone(est), X, y, _relative(weights), kind, classes)
    _stream(est, X, y, weights, kind, classes)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-10)
    assert np.all(est.coef_ != 0)


def test_class_weights_times_sample_weights_keep_one_unit():
    # The class weights multiply the sample weights: chunks of other classes
    # (so other class weights) keep the products' relative sizes too. The
    # first call's largest product, 1e300, fixes the unit 2**k: the class
    # weights divided by it give the same stream.
    X, y = _problem()
    labels = (y > 0).astype(int)
    order = np.argsort(labels, kind="stable")  # (mostly one class per chunk)
    X, labels = X[order], labels[order]
    k = np.frexp(1e300)[1]
    big = _sgd(GDClassifier, class_weight={0: 1e300, 1: 2e299})
    ref = clone(big).set_params(
        class_weight={0: np.ldexp(1e300, -k), 1: np.ldexp(2e299, -k)}
    )
    _stream(big, X, labels, (1.0, 0.3), classes=[0, 1])
    _stream(ref, X, labels, (1.0, 0.3), classes=[0, 1])
    np.testing.assert_allclose(big.coef_, ref.coef_, rtol=1e-10)
    np.testing.assert_allclose(big.intercept_, ref.intercept_, rtol=1e-10)


@pytest.mark.parametrize("make", [GDRegressor, GDClassifier])
def test_weights_that_overflow_in_the_stream_unit_are_refused(make):
    X, y, classes = _problem_for(make)
    est = _stream(_sgd(make), X[:100], y[:100], [1.0], classes=classes)
    before = _state(est)
    with pytest.raises(ValueError, match="out of this stream's range.*overflows"):
        est.partial_fit(X[100:], y[100:], sample_weight=np.full(100, 1e300))
    assert _state(est) == before  # a failed call changes nothing
    # Weights that underflow to zero in the unit of a first call at 1e300.
    tiny = _stream(_sgd(make), X, y, [1e300], classes=classes)
    with pytest.raises(ValueError, match="is zero.*start a new stream with fit"):
        tiny.partial_fit(X[100:], y[100:], sample_weight=np.full(100, 1e-300))


def _state(est):
    return {k: pickle.dumps(v) for k, v in vars(est).items()}


def test_no_weights_in_a_later_call_are_weights_of_one():
    X, y = _problem()
    est = _stream(_sgd(GDRegressor), X, y, [1e300, None])
    ref = _stream(_sgd(GDRegressor), X, y, _relative([1e300, 1.0]))
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-10)
    # In the unit of a first call at 1e-300, weights of 1 are far too large.
    est = _stream(_sgd(GDRegressor), X[:100], y[:100], [1e-300])
    with pytest.raises(ValueError, match="overflows"):
        est.partial_fit(X[100:], y[100:])


@pytest.mark.parametrize("make", [GDRegressor, GDClassifier])
def test_a_refit_starts_a_new_weight_unit(make):
    # fit starts afresh: its weights need not stay within range of the stream's.
    X, y, classes = _problem_for(make)
    est = _stream(_sgd(make), X, y, [1.0, 2.0], classes=classes)
    est.fit(X, y, sample_weight=np.full(200, 1e300))
    ref = _sgd(make).fit(X, y, sample_weight=np.full(200, 1e300))
    np.testing.assert_array_equal(est.coef_, ref.coef_)
    # And a stream after it continues in the fit's unit.
    est.partial_fit(X[:100], y[:100], sample_weight=np.full(100, 1e300))
    with pytest.raises(ValueError, match="out of this stream's range.*is zero"):
        est.partial_fit(X[:100], y[:100], sample_weight=np.full(100, 1e-300))


@pytest.mark.parametrize(
    ("dtype", "weight"), [(np.float64, 1.7e308), (np.float32, 3e38)]
)
def test_weights_up_to_the_largest_float_are_fitted(dtype, weight):
    # Their power of two, 2**1024 (float32: 2**128), is no float of the dtype:
    # dividing by it raised an OverflowError (float32: NaN weights, blamed on
    # the squares of the features).
    X, y = _problem(n=50)
    X = X.astype(dtype)
    ref = GDRegressor(solver="gd").fit(X, y)
    est = GDRegressor(solver="gd").fit(X, y, sample_weight=np.full(50, weight, dtype))
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-5)
