# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The mini-batch view of the sample form, for the stochastic solvers.

:func:`minibatch` builds the objective of the stochastic solvers (the offset is
always a free variable; the model centered with the means of all rows, or uncentered
for a stream) and :func:`batch_gradient` computes the loss and gradients of a batch
of rows in one fused step (on a numpy X, with numpy's own products). An
unweighted stream's constant vectors (equal weights, zero means, the zeros of
:func:`zeros`) are cached per chunk shape, read-only.
:class:`skgd._objective.LinearObjective` exposes both as
``LinearObjective.minibatch`` and ``LinearObjective.batch_gradient``.
"""

import dataclasses
import functools
import math

from array_api_compat import numpy as np_compat

from skgd._backend._dense import is_small_numpy_product
from skgd._stats import (
    ColumnStats,
    column_moments,
    column_stats,
    normalised_weights,
)


def minibatch(
    cls,
    backend,
    X,
    y,
    loss,
    penalty,
    *,
    sample_weight=None,
    fit_intercept=True,
    centered=True,
):
    """Return the objective of the stochastic solvers: the offset is always free.

    With ``centered=True`` the model is the implicitly centered one of the
    full-batch solver, ``raw = (X - x_mean) @ w + c``, but ``c`` is a variable
    of the stochastic step, not its closed form: a batch sees only some rows.
    Centering with the means of all rows decouples ``c`` from ``w``, so features
    with large offsets do not shrink the stable step size; it needs the data in
    memory (one pass for the statistics). With ``centered=False`` (a stream, as
    in ``partial_fit``, where the means are not known in advance and would move
    from call to call) the model is ``raw = X @ w + b`` as in SGDRegressor, and
    no pass over X is made: only the normalised weights are computed, and the
    metric methods (which need column statistics) are unavailable.

    Parameters
    ----------
    backend : Backend
        Operations over X.
    X : {array, sparse matrix} of shape (n_samples, n_features)
        Design matrix.
    y : array of shape (n_samples,)
        Targets.
    loss : Loss
        Per-sample loss.
    penalty : Penalty
        Penalty on ``w``.
    sample_weight : array of shape (n_samples,) or None, default=None
        Non-negative weights with a positive sum.
    fit_intercept : bool, default=True
        Whether ``b`` is fitted (else it is 0).
    centered : bool, default=True
        Whether to center X implicitly with its weighted column means.

    Returns
    -------
    objective : LinearObjective
        An objective whose offset is a free variable.
    """
    # Equal weights are one known scalar: the fused batch step then skips their
    # gather (see batch_gradient).
    uniform = None
    if sample_weight is None:
        uniform = float(backend.coef_xp.asarray(1.0 / X.shape[0], dtype=y.dtype))
    if centered:
        stats = column_stats(backend, X, y.dtype, sample_weight, fit_intercept)
        # The column mask must be in the statistics before they are copied (the
        # copy shares the computed products).
        column_moments(stats, backend, X, fit_intercept, y.dtype)
        stats = dataclasses.replace(stats, free_offset=True, uniform=uniform)
    else:
        if sample_weight is None and backend.coef_xp is np_compat:
            # (A stream's chunks: the same vectors for every chunk of a shape.)
            u, x_mean = _equal_weights(X.shape[0], X.shape[1], y.dtype)
        else:
            u = normalised_weights(backend, X.shape[0], y.dtype, sample_weight)
            cxp = backend.coef_xp
            x_mean = cxp.zeros(X.shape[1], dtype=y.dtype, device=backend.device)
        stats = ColumnStats(
            u=u, x_mean=x_mean, centered=False, free_offset=True, uniform=uniform
        )
    return cls(backend, X, y, loss, penalty, fit_intercept=fit_intercept, stats=stats)


@functools.lru_cache(maxsize=8)
def _equal_weights(n_samples, n_features, dtype):
    """Return ``(u, x_mean)`` of unweighted, uncentered numpy rows, read-only.

    The equal normalised weights and the zero means, as :func:`minibatch` would
    build them: a stream's chunks share one shape, and building them per call
    cost as much as a tenth of a batch step.
    """
    u = np_compat.full(n_samples, 1.0 / n_samples, dtype=dtype)
    x_mean = np_compat.zeros(n_features, dtype=dtype)
    u.flags.writeable = x_mean.flags.writeable = False
    return u, x_mean


def zeros(xp, shape, dtype):
    """Return zeros of ``shape`` in ``xp``, read-only where cached.

    Numpy zeros of up to 65,536 entries are cached: the divergence guard
    evaluates the loss at zero once per stream call, on chunks of one shape.
    """
    if xp is np_compat and math.prod(shape) <= 65_536:
        return _numpy_zeros(shape, dtype)
    return xp.zeros(shape, dtype=dtype)


@functools.lru_cache(maxsize=8)
def _numpy_zeros(shape, dtype):
    out = np_compat.zeros(shape, dtype=dtype)
    out.flags.writeable = False
    return out


def batch_gradient(objective, idx, w, c, max_dloss=None):
    """Return the loss of the rows ``idx`` and its gradients, in one pass.

    The step of the minibatch solvers, fused: it equals ``raw``, ``loss_value``
    and ``gradient`` of the objective restricted to the rows ``idx``, without
    building it (a minibatch step is a few small BLAS products, so the Python
    work around them is the cost to cut). The weights ``u`` are sliced, not
    renormalised, so the losses of an epoch's batches sum to the weighted mean
    loss.

    Parameters
    ----------
    idx : slice or integer array
        The rows.
    w : array of shape (n_features,)
        Coefficients.
    c : float
        Offset.
    max_dloss : float or None, default=None
        Clip each row's loss derivative to ``[-max_dloss, max_dloss]`` before
        its weight applies, as scikit-learn's SGD does; None does not clip.

    Returns
    -------
    loss : float
        ``sum_{i in idx} u_i L(y_i, raw_i)``.
    share : float
        ``sum_{i in idx} u_i``.
    grad_w : array of shape (n_features,)
        Gradient of ``loss`` in ``w`` (zero on inactive columns).
    grad_c : float
        Gradient of ``loss`` in ``c`` (0 unless the intercept is free).
    """
    xp, backend, loss = objective.xp, objective.backend, objective.loss
    X = objective.X
    if isinstance(idx, slice):
        Xb, yb = X[idx, ...], objective.y[idx]
    else:
        Xb, yb = backend.take_rows(X, idx), xp.take(objective.y, idx, axis=0)
    # A small batch of a numpy X: the backend's products are these two BLAS
    # calls (see skgd._backend._dense._row_blocks), made here without its
    # layers, whose checks would cost more than the products themselves.
    direct = is_small_numpy_product(Xb, w)
    raw = Xb @ w if direct else backend.matvec(Xb, w)
    shift = c
    if objective.fit_intercept and objective.centered:
        shift = shift - objective.mean_prediction(w)
    raw = raw + shift
    u0 = objective.stats.uniform
    if u0 is not None:
        # Equal weights: one scalar instead of a gather and a product per batch.
        share = u0 * yb.shape[0]
        g = u0 * _clipped(xp, loss.gradient(yb, raw), max_dloss)
        losses = loss.pointwise(yb, raw)
        # (numpy's sum method: np.sum's reduction without its dispatch layers)
        total = float(losses.sum()) if direct else backend.to_float(xp.sum(losses))
        value = u0 * total
    else:
        ub = objective.u[idx] if isinstance(idx, slice) else xp.take(objective.u, idx)
        share = backend.to_float(xp.sum(ub))
        g = objective.per_sample_shape(ub) * _clipped(
            xp, loss.gradient(yb, raw), max_dloss
        )
        value = backend.to_float(xp.sum(ub * loss.pointwise(yb, raw)))
    grad_c = objective.zero_offset()
    if objective.fit_intercept:
        if direct:
            grad_w, sum_g = g @ Xb, float(g.sum())
        else:
            grad_w, sum_g = backend.rmatvec_sum(Xb, g)
        if objective.centered:
            grad_w = grad_w - objective.per_feature_shape(objective.x_mean) * sum_g
        if objective.intercept_mode == "free":
            grad_c = sum_g
    else:
        grad_w = g @ Xb if direct else backend.rmatvec(Xb, g)
    if objective.centered:
        cxp = objective.coef_xp
        active = objective.per_feature_shape(objective.active)
        grad_w = cxp.where(active, grad_w, cxp.zeros_like(grad_w))
    return value, share, grad_w, grad_c


def _clipped(xp, dloss, bound):
    """Return ``dloss`` clipped to ``[-bound, bound]`` (as is, with ``bound`` None)."""
    if bound is None:
        return dloss
    # Two ufuncs: the compat layer's clip costs as much as the rest of a row's step.
    return xp.minimum(xp.maximum(dloss, -bound), bound)
