# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Input validation for the estimators, for every kind of array skgd accepts.

numpy, scipy.sparse and Array API inputs go through scikit-learn's ``validate_data``
(which keeps float32/float64 dense arrays as they are, and keeps Array API arrays in
their namespace when ``array_api_dispatch`` is on), once per fit: a plain, finite
float32/float64 numpy X, which ``check_array`` would return as it is, skips it, and
the classifier's class codes are checked for their length alone. Dask inputs get
cheap, lazy checks so that validation never gathers X. The estimators stay free of
array-kind branches.

A fit's validation does not change the estimator: the input attributes
(``n_features_in_``, ``feature_names_in_``) wait until the solve has succeeded
(:func:`commit_input_attributes`). Weights and targets of any finite scale are made
safe here: validated weights are brought to a usual scale by a power of two
(:func:`scaled_weights`, which a stream calls with the unit of its first call),
and targets are mapped to an equivalent problem at a usual scale
(:func:`target_scale`, :func:`scaled_problem`, :func:`unscale_fitted`).
"""

import dataclasses
import functools
import math
import operator

import numpy as np
import scipy.sparse as sp
import sklearn
from array_api_compat import array_namespace, device, is_array_api_obj, is_numpy_array
from sklearn.utils import check_consistent_length

from skgd._backend import dask_namespace, get_backend, is_dask
from skgd._sklearn_compat import (
    _check_sample_weight,
    check_same_namespace,
    validate_data,
)
from skgd.losses import (
    EpsilonInsensitive,
    Huber,
    SquaredEpsilonInsensitive,
    SquaredError,
)
from skgd.penalties import L1, L1L2, L2, NoPenalty


def _dispatch():
    """Return whether sklearn's Array API dispatch is on."""
    return sklearn.get_config().get("array_api_dispatch", False)


def _refuse_silent_transfer(X):
    """Raise for an Array API array off the CPU when dispatch is off.

    scikit-learn would convert it to numpy, which for a GPU array means a transfer
    to host memory; skgd never does that silently.
    """
    if is_numpy_array(X) or not is_array_api_obj(X) or _dispatch():
        return
    dev = device(X)
    if str(dev) not in ("cpu", "CPU_DEVICE"):
        raise ValueError(
            f"X is an array of {type(X).__module__} on device {dev!r}. Fit on it "
            "under sklearn.config_context(array_api_dispatch=True) (with "
            "SCIPY_ARRAY_API=1 set before scipy is imported), or move it to host "
            "memory yourself: skgd does not transfer arrays silently."
        )


def _float_dtypes(X):
    """Return the accepted dtypes in X's namespace (float64 first)."""
    if _dispatch() and not is_numpy_array(X) and is_array_api_obj(X):
        xp = array_namespace(X)
        return [xp.float64, xp.float32]
    return [np.float64, np.float32]


def check_fit_data(
    estimator, X, y, sample_weight, *, reset=True, multi_output=True, coded=False
):
    """Validate training data and return it with the backend that will handle it.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator (its ``n_features_in_`` and ``feature_names_in_`` are set or
        checked).
    X : {array-like, sparse matrix, Dask array, Array API array}
        Training data.
    y : array-like
        Targets.
    sample_weight : array-like or None
        Sample weights.
    reset : bool, default=True
        Whether this is a new fit (``n_features_in_`` is reset) or a continuation.
    multi_output : bool, default=True
        Whether a 2-D ``y`` is accepted.
    coded : bool, default=False
        Whether ``y`` is already a valid target (the classifier's class codes,
        made from labels it checked): for numpy codes only their length is
        checked against X.

    Returns
    -------
    X, y, sample_weight : arrays
        In the backend's kind: ``y`` and weights take X's dtype, with X's row
        chunks for Dask. The weights keep their scale (see :func:`scaled_weights`).
    backend : Backend
        The backend for X.
    """
    # A fit is all-or-nothing: the input attributes validation sets with ``reset``
    # wait in _validated_input until the solve has succeeded (see
    # commit_input_attributes); the estimator keeps its own meanwhile.
    estimator.__dict__.pop("_validated_input", None)
    before = {n: estimator.__dict__.get(n) for n in _INPUT_ATTRIBUTES}
    try:
        out = _check_fit_data(
            estimator, X, y, sample_weight, reset, multi_output, coded
        )
    finally:
        after = {n: estimator.__dict__.pop(n, None) for n in _INPUT_ATTRIBUTES}
        estimator.__dict__.update({n: v for n, v in before.items() if v is not None})
    if reset:
        estimator._validated_input = after
    return out


# The attributes scikit-learn's validate_data sets on a fit (reset=True).
_INPUT_ATTRIBUTES = ("n_features_in_", "feature_names_in_")


def commit_input_attributes(estimator):
    """Set the input attributes of the data validated for this fit, if any.

    Called with the other fitted attributes, once the solve has succeeded: a fit
    that raises leaves the previous ``n_features_in_`` and ``feature_names_in_``.
    """
    for name, value in estimator.__dict__.pop("_validated_input", {}).items():
        if value is None:
            estimator.__dict__.pop(name, None)
        else:
            setattr(estimator, name, value)


def _check_fit_data(estimator, X, y, sample_weight, reset, multi_output, coded):
    """Validate training data (see :func:`check_fit_data`)."""
    if is_dask(X):
        return _check_dask_fit_data(estimator, X, y, sample_weight, reset=reset)
    _refuse_silent_transfer(X)
    _refuse_empty(estimator, X)
    for name, a in (("X", X), ("y", y), ("sample_weight", sample_weight)):
        _refuse_complex_array(a, name)
    if coded and is_numpy_array(y):
        # (What check_X_y checks of y: valid codes pass, but for their length.)
        X = _validated_x(estimator, X, reset)
        if not (is_numpy_array(X) and y.ndim and X.shape[0] == y.shape[0]):
            # (Two numpy arrays of one length pass it: its survey of their
            # types and lengths, 4-10 us, is spared on every fit of them.)
            check_consistent_length(X, y)
    else:
        X, y = validate_data(
            estimator,
            X,
            y,
            accept_sparse=("csr", "csc"),
            dtype=_float_dtypes(X),
            multi_output=multi_output,
            y_numeric=True,
            reset=reset,
        )
    backend = get_backend(X)
    y = backend.samples(y, X.dtype)
    if X.dtype == backend.xp.float32 and not bool(
        backend.xp.all(backend.xp.isfinite(y))
    ):
        raise ValueError(
            "y holds values too large for float32, X's dtype: they overflow when "
            "cast to it. Use float64 X, or scale y."
        )
    if sample_weight is not None:
        shape = getattr(sample_weight, "shape", ())
        if is_array_api_obj(sample_weight) and tuple(shape) not in ((), X.shape[:1]):
            # (scikit-learn's message would print torch's own Size type.)
            raise ValueError(
                f"sample_weight.shape == {tuple(shape)}, expected ({X.shape[0]},)!"
            )
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
    return X, y, sample_weight, backend


def _validated_x(estimator, X, reset):
    """Return ``validate_data(estimator, X, ...)`` of a fit, sparing a plain X.

    ``check_array`` has nothing to convert or refuse in a 2-D float32 or float64
    numpy array (its emptiness refused before) whose entries are finite, which a
    finite sum shows (scikit-learn's own first test); for it only the checks of
    the feature names and the width run, and a new fit sets what they would set
    for an array without column names. Anything else, a non-finite sum
    included, goes through ``check_array``, so the errors are scikit-learn's.
    """
    if (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in (np.float64, np.float32)
        and np.isfinite(X.sum())
    ):
        if reset:
            estimator.__dict__.pop("feature_names_in_", None)
            estimator.n_features_in_ = X.shape[1]
            return X
        return validate_data(estimator, X, skip_check_array=True, reset=reset)
    return validate_data(
        estimator,
        X,
        accept_sparse=("csr", "csc"),
        dtype=_float_dtypes(X),
        reset=reset,
    )


def check_stream_data(estimator, X, y, sample_weight):
    """Validate a further batch of a fitted stream (``partial_fit``).

    A plain float numpy batch without sample weights, of the fitted width, for an
    estimator fitted without feature names, is checked here directly: what
    ``validate_data`` would check of it comes down to its shape and finiteness
    (tested on the sums, as scikit-learn's own fast path does), and ``validate_data``
    costs about as much as a stochastic pass over 1,000 rows. Anything else,
    including every batch that fails one of these checks, goes through
    :func:`check_fit_data`, so the errors and warnings are scikit-learn's.

    Parameters
    ----------
    estimator : BaseEstimator
        The fitted estimator.
    X, y, sample_weight : array-like
        The batch.

    Returns
    -------
    X, y, sample_weight, backend
        As :func:`check_fit_data` returns them.
    """
    # (A failed fit's input attributes must not be committed by this pass.)
    estimator.__dict__.pop("_validated_input", None)
    if (
        sample_weight is None
        and type(X) is np.ndarray
        and type(y) is np.ndarray
        and X.ndim == 2
        and X.dtype in (np.float64, np.float32)
        and y.dtype.kind == "f"
        and y.ndim in (1, 2)
        and 0 < X.shape[0] == y.shape[0]
        and y.size > 0
        and X.shape[1] == getattr(estimator, "n_features_in_", -1)
        and not hasattr(estimator, "feature_names_in_")
        and not _dispatch()
    ):
        with np.errstate(over="ignore"):  # an overflow is reported below
            y_cast = y.astype(X.dtype, copy=False)
        # A non-finite sum means a non-finite entry, or an overflowing sum of finite
        # ones: either way the full check decides.
        if np.isfinite(X.sum()) and np.isfinite(y_cast.sum()):
            return X, y_cast, None, get_backend(X)
    return check_fit_data(estimator, X, y, sample_weight, reset=False)


def _refuse_empty(estimator, X):
    """Raise scikit-learn's ValueError for a 2-D X without rows or columns.

    Its words exactly, for every input kind: numpy and sparse input get them from
    ``check_array``, which a Dask X skips and a DataFrame without columns fails
    before it checks ("at least one array or dtype is required").
    """
    shape = tuple(getattr(X, "shape", ()))
    if len(shape) != 2:
        return
    for size, what in zip(shape, ("sample(s)", "feature(s)"), strict=True):
        if size < 1:
            raise ValueError(
                f"Found array with {size} {what} (shape={shape}) while a minimum "
                f"of 1 is required by {type(estimator).__name__}."
            )


def _check_dask_fit_data(estimator, X, y, sample_weight, *, reset):
    """Validate Dask training data with lazy checks (one pass for finiteness)."""
    _refuse_empty(estimator, X)  # (unknown chunk sizes, NaN, pass)
    validate_data(estimator, X, skip_check_array=True, reset=reset)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D Dask array X, got {X.ndim} dimensions.")
    n_samples, n_features = X.shape
    if np.isnan(n_samples):
        raise ValueError(
            "X has unknown chunk sizes; call X.compute_chunk_sizes() first."
        )
    _refuse_non_real(X.dtype, "X")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    backend = get_backend(X)
    X = backend.prepare(X)
    if getattr(y, "shape", (n_samples,))[0] != n_samples:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: "
            f"[{n_samples}, {y.shape[0]}]"
        )
    _refuse_non_real(_dtype_of(y), "y")
    if getattr(y, "ndim", 1) == 2:
        # One problem per column, as for numpy y: X's row chunks, one column chunk.
        da = dask_namespace()
        y = da.asarray(y).astype(X.dtype).rechunk((X.chunks[0], -1)).persist()
    else:
        y = backend.samples(y, X.dtype)
    xp = backend.xp
    nan, inf = backend.to_floats(xp.any(xp.isnan(y)), xp.any(xp.isinf(y)))
    if nan or inf:
        raise ValueError(_not_finite_message("y", y.dtype, nan))
    if sample_weight is not None:
        _refuse_non_real(_dtype_of(sample_weight), "sample_weight")
        # (Before the rechunk to X's rows, which fails on another length.)
        shape = tuple(getattr(sample_weight, "shape", np.shape(sample_weight)))
        if shape != (n_samples,):
            raise ValueError(
                f"sample_weight.shape == {shape}, expected ({n_samples},)!"
            )
        sample_weight = backend.samples(sample_weight, X.dtype)
        low, high = backend.to_floats(sample_weight.min(), sample_weight.max())
        if math.isnan(low) or math.isnan(high) or math.isinf(high):
            nan = math.isnan(low) or math.isnan(high)
            raise ValueError(
                _not_finite_message("sample_weight", sample_weight.dtype, nan)
            )
        if low < 0:
            raise ValueError("Negative values in data passed to `sample_weight`.")
        if high == 0:
            raise ValueError("Sample weights must contain at least one non-zero.")
    return X, y, sample_weight, backend


def _refuse_complex_array(a, name):
    """Raise numpy's error for a complex Array API array.

    A cast to float drops its imaginary part without a word; numpy, sparse and
    pandas input get scikit-learn's own check.
    """
    if a is None or is_numpy_array(a) or not is_array_api_obj(a) or is_dask(a):
        return
    if array_namespace(a).isdtype(a.dtype, "complex floating"):
        raise ValueError(f"Complex data not supported: {name} has dtype {a.dtype}.")


def _refuse_non_real(dtype, name):
    """Raise for data that numpy input would refuse: complex, or not numeric.

    A cast to float would silently drop the imaginary part, or fail deep inside a
    task on the cluster; numpy input gets scikit-learn's error, so Dask gets the same
    words here, before anything runs.
    """
    kind = np.dtype(dtype).kind
    if kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {dtype}.")
    if kind not in "biuf":
        raise ValueError(
            f"{name} must hold numbers; got dtype {dtype}. Convert it to a float "
            "array first."
        )


def _dtype_of(a):
    """Return the dtype of an array, or of a list converted (only then) by numpy."""
    return a.dtype if hasattr(a, "dtype") else np.asarray(a).dtype


def _not_finite_message(name, dtype, nan):
    """Return scikit-learn's message for NaN (``nan``) or infinite values."""
    if nan:
        return f"Input {name} contains NaN."
    return f"Input {name} contains infinity or a value too large for {dtype!r}."


def _check_finite_block(block):
    """Return a block of X, raising the numpy path's error if it is not finite."""
    if not np.all(np.isfinite(block)):
        nan = bool(np.any(np.isnan(block)))
        raise ValueError(_not_finite_message("X", block.dtype, nan))
    return block


def _finite_blocks(X):
    """Return a lazy X whose blocks raise, when computed, if they hold NaN or inf.

    Prediction on Dask stays lazy, so its finiteness check is part of the graph:
    computing the prediction raises the same ``ValueError`` numpy input raises at
    the call.
    """
    return X.map_blocks(_check_finite_block, dtype=X.dtype)


def check_predict_data(estimator, X, method="predict"):
    """Validate data for prediction and return it with its backend.

    Parameters
    ----------
    estimator : BaseEstimator
        A fitted estimator.
    X : {array-like, sparse matrix, Dask array, Array API array}
        Samples.
    method : str, default="predict"
        The public method being called, for the error messages.

    Returns
    -------
    X : array
        Validated samples.
    backend : Backend
        The backend for X.

    Raises
    ------
    ValueError
        If X's namespace or device differs from that of the fitted coefficients.
    """
    if is_dask(X):
        _refuse_empty(estimator, X)
        validate_data(estimator, X, skip_check_array=True, reset=False)
        _refuse_non_real(X.dtype, "X")
        if X.ndim != 2:
            raise ValueError(f"Expected a 2-D Dask array X, got {X.ndim} dimensions.")
        return _finite_blocks(X), get_backend(X)
    _refuse_silent_transfer(X)
    _refuse_empty(estimator, X)
    # (An Array API array would lose its imaginary part in the cast to float.)
    _refuse_complex_array(X, "X")
    # Under dispatch, scikit-learn's own check: same namespace and device as coef_.
    check_same_namespace(X, estimator, attribute="coef_", method=method)
    X = validate_data(
        estimator,
        X,
        accept_sparse=("csr", "csc"),
        dtype=_float_dtypes(X),
        reset=False,
    )
    coef = estimator.coef_
    foreign = not (is_numpy_array(coef) or sp.issparse(coef))  # sparse: sparsify()
    if foreign and (is_numpy_array(X) or hasattr(X, "format")):
        raise ValueError(
            f"The model was fitted on {type(coef).__module__} arrays; predict on an "
            "array of that namespace (under array_api_dispatch), not on numpy or "
            "sparse data."
        )
    return X, get_backend(X)


def refuse_out_of_core(X, what):
    """Raise for input that ``what`` would have to gather into memory.

    The cross-validated and path estimators index rows of X per fold, which for a
    Dask array would bring X to the client, and for an array off the CPU would mean
    a transfer: refuse both with a message that says what to do instead.

    Parameters
    ----------
    X : object
        The training data.
    what : str
        The estimator or function, for the message.
    """
    if is_dask(X):
        raise ValueError(
            f"{what} takes in-memory data (numpy or scipy.sparse); for a Dask array "
            "fit GDRegressor, or run the search's folds on the cluster with "
            "joblib.parallel_backend('dask')."
        )
    if is_array_api_obj(X) and not is_numpy_array(X) and not hasattr(X, "format"):
        raise ValueError(
            f"{what} takes numpy or scipy.sparse data; got a {type(X).__module__} "
            "array. Fit GDRegressor on it, or convert it to numpy yourself."
        )


def rescale_weights(sample_weight, backend):
    """Return non-negative finite weights, divided by a power of two if need be.

    The fit depends only on the weights relative to one another, but their sum
    (``np.full(100, 1e307)``), or a product with them, may overflow, and tiny ones
    underflow: weights whose largest value lies outside ``[2**-e, 2**e]``, with ``e``
    a quarter of the dtype's exponent range, are divided by the power of two that
    brings it into ``[0.5, 1)``, exactly; the others are returned as they are.
    """
    return scaled_weights([sample_weight], backend)[0]


def scaled_weights(factors, backend, carried=None):
    """Return the product of the weight arrays ``factors`` and its power of two.

    The product is returned as ``(weights, k)``, the true product being
    ``weights * 2**k``: each factor, then the product, is brought to a usual scale
    as :func:`rescale_weights` does, exactly, so that neither the product nor the
    solvers' sums of weights overflow or underflow (``None`` factors are skipped;
    none at all give ``(None, 0)``).

    ``carried`` is the ``k`` that a stream's first call fixed: the stochastic
    solvers' steps scale with the weights, so every later call of the stream
    returns its weights in that unit (``k == carried``), which keeps the weights of
    all its calls relative to one another. A call whose weights would overflow,
    or all underflow to zero, in that unit raises a ``ValueError``.
    """
    exponent, scaled, tops = 0, [], []
    for weights in factors:
        if weights is not None:
            k, top = _weight_exponent(weights, backend)
            scaled.append(_times_power_of_two(weights, -k, backend))
            tops.append(math.ldexp(top, -k))
            exponent += k
    if not scaled:
        return None, 0
    product = functools.reduce(operator.mul, scaled)
    # (The largest product: one factor's is known, several need a pass.)
    high = tops[0] if len(scaled) == 1 else backend.to_float(backend.xp.max(product))
    if carried is None:
        k, _ = _weight_exponent(product, backend, high)
        return _times_power_of_two(product, -k, backend), exponent + k
    shift = exponent - carried
    finfo = backend.xp.finfo(product.dtype)
    limit = math.frexp(float(finfo.max))[1] // 4
    tiny = float(finfo.smallest_normal) * float(finfo.eps)
    top = math.frexp(high)[1] + shift
    if high > 0 and (top > limit + 1 or math.ldexp(high, min(shift, 0)) < tiny):
        raise ValueError(
            "The sample weights (times the class weights, if any) are out of this "
            f"stream's range: in the unit its first call fixed, 2**{carried}, this "
            f"call's largest weight is about 2**{top}, where it "
            f"{'overflows' if top > 0 else 'is zero'}. Give the whole stream's "
            f"weights one scale (within 2**{limit} of that unit, either way), or "
            "start a new stream with fit."
        )
    return _times_power_of_two(product, shift, backend), carried


def _weight_exponent(weights, backend, high=None):
    """Return ``(k, top)``: weights / 2**k are at a usual scale (k = 0 if they are).

    ``top`` is the weights' largest value (computed unless given as ``high``).
    """
    xp = backend.xp
    top = backend.to_float(xp.max(weights)) if high is None else high
    limit = math.frexp(float(xp.finfo(weights.dtype).max))[1] // 4
    # (Below 2**e, the sum of even 2**(3e) weights is finite.)
    if top == 0 or 2.0**-limit <= top <= 2.0**limit:
        return 0, top
    return math.frexp(top)[1], top


def _times_power_of_two(weights, k, backend):
    """Return ``weights * 2**k``, exactly short of subnormal results.

    By steps whose factor the weights' dtype holds: a float32 array takes a Python
    float in its own dtype, where ``2**-150`` is already zero.
    """
    step = math.frexp(float(backend.xp.finfo(weights.dtype).max))[1] - 2
    while k != 0:
        now = max(-step, min(step, k))
        weights = weights * math.ldexp(1.0, now)
        k -= now
    return weights


def target_scale(y, backend, carried=None, *, stochastic=False):
    """Return the power of two to divide the targets ``y`` by: 1 at a usual scale.

    Targets whose largest magnitude lies outside ``[2**-e, 2**e]``, with ``e`` a
    quarter of the dtype's exponent range (float64: about 1e-77 to 1e77; float32:
    5e-10 to 4e9), would have squares, products and sums that overflow or underflow
    in the objective: an all-zero model reported as converged. Dividing by a power
    of two is exact (short of subnormal numbers) and leaves usual targets as they are.

    The columns of a 2-D ``y`` share the scale; each must keep its values at it
    (for the ``stochastic`` solvers, whose stopping rule is in the units of the
    targets, stay within the usual range): columns too far apart in scale for
    that raise a ``ValueError``. ``carried`` is the scale a stream (``partial_fit``
    calls, a stochastic fit that they continue) fixed at its first call: its
    coefficients and optimizer state are in the units of ``y / carried``, so every
    later call is divided by the same scale, and one whose targets would overflow
    at it raises a ``ValueError``.
    """
    xp = backend.xp
    limit = math.frexp(float(xp.finfo(y.dtype).max))[1] // 4
    if carried is not None:
        # A stream's later call checks only its largest target (one reduction):
        # the scale is the first call's.
        top = backend.to_float(xp.max(xp.abs(y)))
        if top / carried > 2.0**limit:
            raise ValueError(
                f"y is too large for this stream (largest |y| {top:.3g}): the "
                f"stream's first call fixed the targets' scale at {carried:.3g}, "
                "at which this call's squares overflow. Divide y by a constant "
                "for the whole stream, or start a new one with fit."
            )
        return carried
    tops = xp.max(xp.abs(y), axis=0)
    top = xp.max(tops)
    # The smallest column's scale (zero columns aside: they fit as zeros anyway).
    top, low = backend.to_floats(top, xp.min(xp.where(tops > 0, tops, top)))
    scale = 1.0
    if top != 0 and not 2.0**-limit <= top <= 2.0**limit:
        scale = math.ldexp(1.0, math.frexp(top)[1])
    floor = 2.0**-limit if stochastic else float(xp.finfo(y.dtype).smallest_normal)
    if low != 0 and low / scale < floor:
        raise ValueError(
            f"The columns of y differ too much in scale to be fitted together "
            f"(largest |y| {top:.3g} in one column, {low:.3g} in another): fit "
            "them one at a time"
            + (", or with solver='gd'." if stochastic and low / scale > 0 else ".")
        )
    return scale


def scaled_problem(loss, penalty, scale):
    """Return the loss and penalty of the problem in ``y / scale``, and its degree.

    With ``y = s y'``, ``w = s w'`` and ``b = s b'``, a loss homogeneous of degree
    ``d`` in the residual (its ``epsilon`` divided by ``s``) gives a data term
    ``s**d`` times that of ``(y', w', b')``, while the penalty's L1 part scales as
    ``s`` and its L2 part as ``s**2``: they do not scale with y. The problem in y' is
    then solved exactly with the L1 strength times ``s**(1 - d)`` and the L2
    strength times ``s**(2 - d)``; its solution times ``s`` is the original one.
    """
    degree = 1 if isinstance(loss, EpsilonInsensitive) else 2
    if isinstance(loss, (Huber, EpsilonInsensitive, SquaredEpsilonInsensitive)):
        loss = dataclasses.replace(loss, epsilon=loss.epsilon / scale)
    elif not isinstance(loss, SquaredError):
        raise ValueError(
            f"y's scale is out of the range a custom loss {loss!r} can be fitted "
            "on: divide y by a constant first."
        )
    l1, l2 = scale ** (1 - degree), scale ** (2 - degree)
    if isinstance(penalty, L1L2):
        a1, a2 = (
            penalty.alpha * penalty.l1_ratio * l1,
            penalty.alpha * (1 - penalty.l1_ratio) * l2,
        )
        total = a1 + a2
        ratio = a1 / total if total > 0 else 0.0
        penalty = dataclasses.replace(penalty, alpha=total, l1_ratio=ratio)
    elif isinstance(penalty, L1):
        penalty = dataclasses.replace(penalty, alpha=penalty.alpha * l1)
    elif isinstance(penalty, L2):
        penalty = dataclasses.replace(penalty, alpha=penalty.alpha * l2)
    elif not isinstance(penalty, NoPenalty):
        raise ValueError(
            f"y's scale is out of the range a custom penalty {penalty!r} can be "
            "fitted with: divide y by a constant first."
        )
    return loss, penalty, degree


def unscale_fitted(fitted, scale, degree):
    """Map the attributes fitted on ``y / scale`` back to y's scale, in place."""
    fitted["coef_"] = fitted["coef_"] * scale
    fitted["intercept_"] = fitted["intercept_"] * scale
    # (v * s) * s: s**2 alone may overflow where the objective does not.
    up = (lambda v: v * scale) if degree == 1 else (lambda v: (v * scale) * scale)
    fitted["loss_curve_"] = [up(v) for v in fitted["loss_curve_"]]
    if "dual_gap_" in fitted:  # a gap is in the objective's units
        fitted["dual_gap_"] = up(fitted["dual_gap_"])
