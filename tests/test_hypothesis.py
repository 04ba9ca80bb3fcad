# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Property-based tests: any input either fits to finite, optimal output or raises a
ValueError that says what is wrong."""

import importlib.util
import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning  # noqa: E402
from sklearn.linear_model import Lasso, Ridge  # noqa: E402

from skgd import GDRegressor  # noqa: E402

# What every property here shares: no deadline (a fit's time varies with the
# draw) and no complaint about slow or large draws, which the problems are.
_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_LOSSES = st.sampled_from(
    ["squared_error", "huber", "epsilon_insensitive", "squared_epsilon_insensitive"]
)
_PENALTIES = st.sampled_from(["l2", "l1", "elasticnet", None])
_STOCHASTIC = st.sampled_from(["sgd", "adam"])


def _fit(est, X, y, sw):
    return est.fit(X, y, sample_weight=sw)


def _fit_then_partial_fit(est, X, y, sw):
    est.fit(X, y, sample_weight=sw)
    return est.partial_fit(X, y, sample_weight=sw)


def _outcome(fit, est, X, y, sw):
    """Return ``fit(est, X, y, sw)``, the fitted estimator, or the message of the
    ValueError it raised; warnings of no convergence, of overflow and of an
    undefined validation score (a 1-row validation set) are ignored."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        try:
            return fit(est, X, y, sw)
        except ValueError as exc:
            return str(exc)


def _assert_finite_or_refused(outcome, X, words):
    """Assert that ``outcome`` is a refusal naming one of ``words``, or an
    estimator whose coefficients, predictions on ``X`` and loss curve are finite."""
    if isinstance(outcome, str):
        assert any(word in outcome for word in words), outcome
        return
    assert np.all(np.isfinite(outcome.coef_))
    assert np.isfinite(outcome.intercept_)
    assert np.all(np.isfinite(outcome.predict(X)))
    assert np.all(np.isfinite(outcome.loss_curve_))


@st.composite
def problems(draw):
    """A regression problem with the awkward features users really have."""
    n = draw(st.integers(1, 200))
    p = draw(st.integers(1, 50))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    X *= 10.0 ** rng.uniform(-8, 8, size=p)  # feature scales from 1e-8 to 1e8
    if draw(st.booleans()):
        X[:, rng.integers(p)] = rng.normal()  # a constant column
    if p > 1 and draw(st.booleans()):
        X[:, 1] = X[:, 0]  # a duplicated column
    kind = draw(st.sampled_from(["float64", "float32", "int", "bool"]))
    if kind == "int":
        X = np.round(np.clip(X, -1e6, 1e6)).astype(np.int64)
    elif kind == "bool":
        X = X > 0
    elif kind == "float32":
        X = X.astype(np.float32)
    if draw(st.booleans()):
        X = np.asfortranarray(X)
    y = rng.normal(size=n) * 10.0 ** rng.uniform(-3, 3)
    if draw(st.booleans()):
        y[:] = y[0]  # all-equal target
    fmt = draw(st.sampled_from(["dense", "dense", "csr", "csc"]))
    if fmt != "dense" and kind != "bool":
        X = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    sw = None
    if draw(st.booleans()):
        sw = rng.integers(0, 3, size=n).astype(float)  # zeros allowed
    return X, y, sw


@_SETTINGS
@given(
    problem=problems(),
    penalty=_PENALTIES,
    loss=_LOSSES,
    fit_intercept=st.booleans(),
)
def test_hypothesis_fit_is_finite_or_a_clear_error(
    problem, penalty, loss, fit_intercept
):
    X, y, sw = problem
    est = GDRegressor(
        loss=loss,
        penalty=penalty,
        alpha=1e-2,
        fit_intercept=fit_intercept,
        max_iter=300,
    )
    # Only these are legitimate refusals for the inputs drawn here.
    words = ("zero", "overflow", "diverged", "sample_weight")
    _assert_finite_or_refused(_outcome(_fit, est, X, y, sw), X, words)


def _objective(X, y, sw, coef, intercept, alpha, l1_ratio):
    s = np.ones(len(y)) if sw is None else sw
    r = y - X @ coef - intercept
    return 0.5 * np.sum(s * r * r) / np.sum(s) + alpha * (
        l1_ratio * np.abs(coef).sum() + 0.5 * (1 - l1_ratio) * coef @ coef
    )


@_SETTINGS
@given(problem=problems(), penalty=st.sampled_from(["l2", "l1"]))
def test_hypothesis_tight_fit_is_no_worse_than_sklearn(problem, penalty):
    X, y, sw = problem
    if sw is not None and sw.sum() == 0:
        return
    Xd = (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(float)
    alpha = 1e-2
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            est = GDRegressor(penalty=penalty, alpha=alpha, tol=1e-10, max_iter=5000)
            est.fit(Xd, y, sample_weight=sw)
        except ConvergenceWarning:
            return  # the property is about fits that report success
        S = len(y) if sw is None else sw.sum()
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = Ridge(alpha=alpha * S) if penalty == "l2" else Lasso(alpha=alpha)
        ref.fit(Xd, y, sample_weight=sw)
    l1 = 1.0 if penalty == "l1" else 0.0
    ours = _objective(Xd, y, sw, est.coef_, est.intercept_, alpha, l1)
    theirs = _objective(Xd, y, sw, ref.coef_, ref.intercept_, alpha, l1)
    s = np.ones(len(y)) if sw is None else sw
    p0 = 0.5 * np.average((y - np.average(y, weights=s)) ** 2, weights=s)
    # Allowance: the certified tol, plus rounding relative to the target's size.
    assert ours <= theirs + 1e-9 * p0 + 1e-14 * np.average(y**2, weights=s)


@_SETTINGS
@given(
    problem=problems(),
    solver=_STOCHASTIC,
    penalty=_PENALTIES,
    loss=_LOSSES,
    learning_rate=st.sampled_from(["constant", "optimal", "invscaling", "adaptive"]),
    batch_size=st.sampled_from([1, 7, 128]),
    average=st.sampled_from([False, True, 10]),
    early_stopping=st.booleans(),
    fit_intercept=st.booleans(),
    alpha=st.sampled_from([0.0, 1e-2, 10.0]),
    eta0=st.sampled_from([1e-4, 1e-2, 1.0, 1e3]),
    momentum=st.sampled_from([0.0, 0.9, 1.0]),
)
def test_hypothesis_stochastic_fit_is_finite_or_a_clear_error(
    problem,
    solver,
    penalty,
    loss,
    learning_rate,
    batch_size,
    average,
    early_stopping,
    fit_intercept,
    alpha,
    eta0,
    momentum,
):
    X, y, sw = problem
    est = GDRegressor(
        loss=loss,
        penalty=penalty,
        alpha=alpha,
        eta0=eta0,
        momentum=momentum,
        solver=solver,
        learning_rate=learning_rate,
        batch_size=batch_size,
        average=average,
        early_stopping=early_stopping,
        fit_intercept=fit_intercept,
        max_iter=5,
        random_state=0,
    )
    # Divergence names the step size; the other refusals name the bad input.
    words = (
        "zero",
        "diverged",
        "overflow",
        "sample_weight",
        "validation",
        "empty",
        "alpha must",
    )
    outcome = _outcome(_fit_then_partial_fit, est, X, y, sw)
    _assert_finite_or_refused(outcome, X, words)


@st.composite
def scaled_problems(draw):
    """A problem at an extreme scale: float32 columns with large means, targets
    from 1e-300 to 1e300 (float32 X: 1e-25 to 1e20), weights summing near overflow
    or subnormal; with the same problem at a usual scale."""
    n = draw(st.integers(20, 100))
    p = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    Z = rng.normal(size=(n, p))
    y = Z @ rng.normal(size=p) + 0.1 * rng.normal(size=n)
    # Means up to 3000 times the spread: float32's rounding bound called such
    # columns constant; their float32 values still hold the spread to 2e-3.
    means = draw(st.booleans()) * 10.0 ** rng.uniform(0, 3.5, size=p)
    spreads = 10.0 ** rng.uniform(-1, 1, size=p)
    X = (means + spreads * Z).astype(dtype)
    low, high = (-300, 300) if dtype == np.float64 else (-25, 20)
    scale = 10.0 ** draw(st.integers(low, high))
    weights = draw(st.sampled_from([None, "usual", "huge", "tiny"]))
    sw = None if weights is None else rng.uniform(0.5, 1.5, size=n)
    if weights == "huge":
        sw = sw * (float(np.finfo(dtype).max) / (2 * n))  # sum: about max / 2
    elif weights == "tiny":
        sw = sw * float(np.finfo(dtype).tiny) * 2.0**-10
    return X, Z, y, scale, sw


@_SETTINGS
@given(problem=scaled_problems(), penalty=st.sampled_from(["l2", None]))
def test_hypothesis_extreme_scales_give_the_usual_fit(problem, penalty):
    # With the squared loss and an L2 penalty (or none) the solution scales exactly
    # with y and does not depend on the weights' overall scale: the fit at an
    # extreme scale, scaled back, is the fit at a usual one, never a model of
    # zeros reported as converged.
    X, Z, y, scale, sw = problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = _tight_gd(penalty).fit(X, y * scale, sample_weight=sw)
    assert np.all(np.isfinite(est.coef_))
    assert np.isfinite(est.intercept_)
    pred = est.predict(X).astype(np.float64) / scale
    _assert_predicts_the_usual_fit(pred, X, y, sw, penalty)


def _tight_gd(penalty):
    """Return the "gd" regressor that the extreme-scale properties fit, at tol 1e-10."""
    return GDRegressor(penalty=penalty, alpha=1e-3, solver="gd", tol=1e-10)


def _assert_predicts_the_usual_fit(pred, X, y, sw, penalty):
    """Assert that ``pred``, an extreme-scale fit's predictions on ``X`` scaled
    back, are those of the fit at the usual scale: float64 columns, y as drawn,
    weights of a usual sum (a power of two apart: the same relative weights,
    subnormal rounding included)."""
    usual = None if sw is None else np.ldexp(sw, -np.frexp(sw.max())[1])
    X64 = X.astype(np.float64)
    ref = _tight_gd(penalty).fit(X64, y, sample_weight=usual)
    error = np.sqrt(np.average((pred - ref.predict(X64)) ** 2))
    assert error <= (1e-2 if X.dtype == np.float32 else 1e-6) * np.std(y)


def _usual_scale(values, dtype):
    """Return the power of two that brings ``values`` to a usual scale, 1 for
    values already there: ``target_scale_``'s rule (the largest magnitude within
    ``2**-e`` to ``2**e``, ``e`` a quarter of ``dtype``'s exponent range)."""
    top = float(np.max(np.abs(values)))
    e = np.finfo(dtype).maxexp // 4
    return 1.0 if top == 0 or 2.0**-e <= top <= 2.0**e else 2.0 ** np.frexp(top)[1]


def _stochastic_at_two_scales(fit, X, y, scale, sw, solver, penalty):
    """Run ``fit`` (fit then partial_fit) at ``y * scale`` and at the usual scale.

    Returns both outcomes (the estimator or the ValueError's message) and the
    power of two ``s`` between them. The usual problem is ``y * scale / s`` with
    the weights a power of two apart and the L1 strength divided by ``s``: the
    problem that the estimator solves for ``y * scale``.
    """
    dtype = X.dtype
    y_extreme = (y * scale).astype(dtype)
    sw = None if sw is None else sw.astype(dtype)
    s = _usual_scale(y_extreme, dtype)
    usual_sw = None if sw is None else sw / _usual_scale(sw, dtype)
    alpha = 1e-3
    outcomes = []
    for target, weights, a in [
        (y_extreme, sw, alpha),
        (y_extreme / s, usual_sw, alpha / s if penalty == "l1" else alpha),
    ]:
        est = GDRegressor(
            solver=solver, penalty=penalty, alpha=a, max_iter=5, random_state=0
        )
        outcomes.append(_outcome(fit, est, X, target, weights))
    return *outcomes, s


def _assert_same_fit_scaled(est, ref, s):
    """Assert that ``est`` is ``s`` times ``ref``, or both raised."""
    assert isinstance(est, str) == isinstance(ref, str), (est, ref)
    if isinstance(est, str):
        return
    assert np.all(np.isfinite(est.coef_))
    assert np.any(est.coef_ != 0) or not np.any(ref.coef_ != 0)
    # The same computation in the units of y / s; only subnormal values of
    # coef_ lose bits when scaled back (tiny scales).
    atol = 1e-12 * np.max(np.abs(ref.coef_))
    np.testing.assert_allclose(est.coef_ / s, ref.coef_, rtol=1e-12, atol=atol)
    np.testing.assert_allclose(est.intercept_ / s, ref.intercept_, rtol=1e-12)


@_SETTINGS
@given(
    problem=scaled_problems(),
    solver=_STOCHASTIC,
    penalty=st.sampled_from(["l2", "l1", None]),
)
def test_hypothesis_stochastic_extreme_scales_give_the_usual_fit(
    problem, solver, penalty
):
    # "sgd" and "adam" refused tiny targets and overflowed on large ones. At any
    # scale, fit then partial_fit give s times what they give on the same problem
    # at a usual scale (or raise as it does), never a model of zeros.
    X, Z, y, scale, sw = problem
    est, ref, s = _stochastic_at_two_scales(
        _fit_then_partial_fit, X, y, scale, sw, solver, penalty
    )
    _assert_same_fit_scaled(est, ref, s)


def _input_kinds():
    """The array kinds the extreme-scale fuzz draws from: Dask, and torch on CPU
    where sklearn's Array API dispatch can run (SCIPY_ARRAY_API=1 before scipy)."""
    kinds = []
    if importlib.util.find_spec("distributed") is not None:
        kinds.append("dask")
    if (
        os.environ.get("SCIPY_ARRAY_API") == "1"
        and importlib.util.find_spec("torch") is not None
    ):
        kinds.append("torch")
    return kinds


@pytest.fixture(scope="module")
def dask_client():
    """A 2-worker LocalCluster, as the Dask tests use, with thread workers: each
    iteration of a fit is a round trip, and processes would make it dearer."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _as_kind(kind, X, y, sw):
    """Return X, y and sw as arrays of ``kind`` (Dask: chunks of 25 rows)."""
    if kind == "dask":
        import dask.array as da

        chunk = (25, X.shape[1])
        to = lambda a: None if a is None else da.from_array(a, chunks=25)
        return da.from_array(X, chunks=chunk), to(y), to(sw)
    import torch

    to = lambda a: None if a is None else torch.asarray(a)
    return to(X), to(y.astype(X.dtype)), to(None if sw is None else sw.astype(X.dtype))


@pytest.mark.skipif(not _input_kinds(), reason="neither distributed nor torch")
@settings(_SETTINGS, max_examples=min(9, settings().max_examples))
@given(
    problem=scaled_problems(),
    penalty=st.sampled_from(["l2", None]),
    kind=st.sampled_from(_input_kinds() or ["numpy"]),
    solver=st.sampled_from(["gd", "sgd", "adam"]),
)
def test_hypothesis_extreme_scales_on_dask_and_array_api(
    dask_client, problem, penalty, kind, solver
):
    # The same properties as above on Dask (a LocalCluster) and torch CPU inputs:
    # the extreme-scale "gd" fit, scaled back, predicts what the numpy fit at a
    # usual scale predicts; a Dask stream of "sgd" or "adam" is s times the one
    # at the usual scale (torch takes "gd" only, and says so).
    import sklearn

    X, Z, y, scale, sw = problem
    if solver != "gd":
        if kind == "torch":
            with (
                sklearn.config_context(array_api_dispatch=True),
                pytest.raises(ValueError, match="use solver='gd'"),
            ):
                GDRegressor(solver=solver).fit(*_as_kind(kind, X, y * scale, sw))
            return

        def fit(est, X, y, sw):
            return _fit_then_partial_fit(est, *_as_kind(kind, X, y, sw))

        est, ref, s = _stochastic_at_two_scales(fit, X, y, scale, sw, solver, penalty)
        _assert_same_fit_scaled(est, ref, s)
        return
    if kind == "torch" and X.dtype == np.float32:
        y = y.astype(np.float32).astype(np.float64)  # (torch keeps y in X's dtype)
    Xk, yk, swk = _as_kind(kind, X, y * scale, sw)
    with (
        warnings.catch_warnings(),
        sklearn.config_context(array_api_dispatch=kind == "torch"),
    ):
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = _tight_gd(penalty).fit(Xk, yk, sample_weight=swk)
        pred = est.predict(Xk)
    pred = np.asarray(pred.compute() if kind == "dask" else pred.cpu())
    assert np.all(np.isfinite(pred))
    _assert_predicts_the_usual_fit(pred / scale, X, y, sw, penalty)
