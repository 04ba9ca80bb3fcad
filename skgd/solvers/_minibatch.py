# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Minibatch solver: batch -> gradient -> step rule -> prox, epoch after epoch.

It drives the step rules and schedules of :mod:`skgd.optimizers` over the rows of a
:class:`~skgd._objective.LinearObjective`; it knows nothing of the kind of X (the
objective's backend slices the batches) nor of the estimator (which owns data
splitting and the fitted attributes).
"""

import math
import time

from skgd._contract import check_support
from skgd.solvers._result import SolverResult

# A running epoch loss this many times the reference loss is divergence, not noise:
# an honest trajectory stays within a small factor of the loss at its start or at
# zero coefficients, while a step size beyond stability grows the loss geometrically.
_BLOWUP = 1e4
# "adaptive" stops reducing its step (and the solver stops) below this step size, as
# in SGDRegressor.
_ETA_FLOOR = 1e-6

_DIVERGENCE_HINT = (
    "Scale the features (e.g. with sklearn.preprocessing.StandardScaler), use a "
    "smaller eta0, or use solver='gd', whose step size needs no tuning."
)


def _split_penalty(penalty):
    """Return ``(decay, prox_penalty)``: the L2 part as weight decay, the rest by prox.

    Penalties of the elastic-net family (``l1``/``l2`` strengths) put their squared
    L2 part in the gradient, which is SGDRegressor's weight decay, and their L1
    part in a soft-threshold. Any other penalty is applied whole through its prox.
    """
    l1, l2 = penalty.elastic_net_weights() or (None, None)
    if l1 is None or l2 is None:
        return 0.0, penalty
    if not l1:
        return float(l2), None
    from skgd.penalties import L1

    return float(l2), L1(alpha=float(l1))


def init_state(rule, params):
    """Return a fresh solver state for the flat parameters ``[w, c]``.

    Parameters
    ----------
    rule : step rule
        The rule whose state to initialise.
    params : array of shape (n_features + 1,)
        Coefficients followed by the offset.

    Returns
    -------
    state : dict
        ``t`` (updates made), ``samples`` (rows seen), ``rule`` (the rule's state),
        ``eta_scale`` (the reduction factor of ``"adaptive"``), ``average`` (the
        running mean of the iterates or None) and ``n_average`` (iterates in it).
    """
    return {
        "t": 0,
        "samples": 0,
        "rule": rule.init(params),
        "eta_scale": 1.0,
        "average": None,
        "n_average": 0,
    }


def solve_minibatch(
    objective,
    w0,
    c0,
    *,
    rule,
    schedule,
    batch_size,
    max_iter,
    tol,
    n_iter_no_change,
    random_state,
    shuffle=True,
    average=0,
    rows=None,
    state=None,
    validation_score=None,
    verbose=0,
    callback=None,
    solver_name="sgd",
    divergence_factor=_BLOWUP,
    intercept_step_scale=1.0,
):
    r"""Minimise an objective by minibatch stochastic proximal gradient steps.

    **Update.** For a batch ``B`` of ``|B|`` rows out of ``n`` with normalised
    weights ``u``, the gradient of the smooth part is estimated without bias by
    ``n / |B| * sum_{i in B} u_i L'_i [x_i, 1]`` (with ``u_i = 1/n`` and
    ``|B| = 1``, SGDRegressor's ``dloss * x``). The squared-L2 part of an elastic-net
    penalty is added as weight decay, the rule turns the gradient into a direction
    and a (scalar or per-coordinate) step ``eta``, and the L1 part (or any other
    penalty) is applied by its prox with that step, so L1 gives exact zeros. The
    offset ``c`` is a free variable updated by the same rule and never penalized.

    **Schedules** count updates: update ``t`` (1-based, carried in ``state``) uses
    ``eta_scale * schedule(t)``.

    **Averaging** (``average > 0``): once ``average`` rows have been seen, the
    running mean of the iterates after each update (prox included) is kept, as in
    SGDRegressor's ASGD. The mean of proximal iterates converges to the optimum of the
    penalized objective with L1 and elastic net too; it is not exactly sparse.

    **Epoch loss.** The running average over the epoch of the batch losses (taken
    at the iterate before each update, so no extra pass) plus the penalty, weighted
    by each batch's share of the weights: SGDRegressor's ``objective_sum``.

    **Stopping** (SGDRegressor's rule): an epoch counts as no improvement when its
    loss exceeds the best one minus ``tol`` (with ``validation_score``, when the
    score is below the best plus ``tol``). After ``n_iter_no_change`` such epochs,
    an adaptive schedule divides its step by 5 (down to ``1e-6``), any other run
    stops. ``tol=None`` runs ``max_iter`` epochs.

    **Divergence.** A non-finite loss or iterate, or a running epoch loss above
    ``divergence_factor`` (``1e4``) times the reference (the larger of the
    objective at the start and at zero coefficients, over the rows given), raises
    a ``ValueError`` naming the learning-rate settings, before any non-finite value
    can be returned. A reference that is itself not finite (y too large to square
    in X's dtype) raises a ``ValueError`` that says so, before any step.

    **Cost.** Each batch is one fused call of
    :meth:`~skgd._objective.LinearObjective.batch_gradient` (a gather of its rows,
    ``X_B @ w`` and ``X_B.T @ g``) plus a few vector operations of length
    ``n_features``: the Python work per batch does not grow with its size.

    Parameters
    ----------
    objective : LinearObjective
        The problem, normally :meth:`~skgd._objective.LinearObjective.uncentered`.
    w0 : array of shape (n_features,)
        Starting coefficients (ignored when ``state`` holds an average; the
        iterate always starts here).
    c0 : float
        Starting offset.
    rule : step rule
        An ``init``/``update`` pair from :mod:`skgd.optimizers`.
    schedule : callable
        ``schedule(t)``, the step size of update ``t``; ``schedule.adaptive`` says
        whether stagnation reduces it.
    batch_size : int
        Rows per batch (the last batch of an epoch may be smaller).
    max_iter : int
        Number of epochs at most.
    tol : float or None
        Tolerance of the stopping rule; None disables it.
    n_iter_no_change : int
        Epochs without improvement before stopping (or reducing the step).
    random_state : numpy.random.RandomState
        Source of the shuffling permutations.
    shuffle : bool, default=True
        Whether to shuffle the rows before each epoch.
    average : int, default=0
        Rows seen before averaging starts; 0 disables averaging.
    rows : integer array or None, default=None
        The rows to train on (the others, e.g. a validation set, should carry zero
        weight in the objective); None means all.
    state : dict or None, default=None
        The state returned by a previous call (``result.extra["state"]``), to
        continue its schedule, step rule and average; None starts afresh.
    validation_score : callable or None, default=None
        ``validation_score(w, b)`` with ``b`` the intercept, higher is better;
        enables early stopping on it, and the best coefficients are returned.
    verbose : int, default=0
        Print one line per epoch (epoch, loss, step size, time) when positive.
    callback : callable or None, default=None
        Called as ``callback(epoch, w, epoch_loss)`` after each epoch.
    solver_name : str, default="sgd"
        The name used in messages.
    divergence_factor : float or None, default=1e4
        The running epoch loss, relative to the reference, beyond which the run
        counts as diverged; None stops only on a non-finite loss or iterate (as
        SGDRegressor does, where a decaying step may recover from a transient).
    intercept_step_scale : float, default=1.0
        Factor on the offset's step (SGDRegressor damps the intercept's updates on
        sparse data by 0.01).

    Returns
    -------
    result : SolverResult
        ``coef``/``intercept``: the averaged iterate when averaging has started
        (else the last one), or the best one under early stopping. ``extra``
        holds ``state``, ``offset`` (the returned ``c``), ``standard`` and
        ``averaged`` (``(w, b)`` pairs with ``b`` the intercept, the latter None
        before averaging),
        ``validation_scores``, ``best_validation_score`` and ``eta`` (last step).

    Raises
    ------
    ValueError
        If the fit diverges.

    References
    ----------
    L. Bottou, "Stochastic gradient descent tricks", Neural Networks: Tricks of the
    Trade, 2012. B. T. Polyak and A. B. Juditsky, "Acceleration of stochastic
    approximation by averaging", SIAM J. Control Optim., 1992.
    """
    check_support(objective.loss, objective.penalty, solver_name)
    xp = objective.xp
    penalty = objective.penalty
    n_coef = math.prod(objective.coef_shape)
    dtype = objective.dtype
    n_rows = objective.n_samples if rows is None else int(rows.shape[0])
    decay, prox_penalty = _split_penalty(penalty)
    penalty_value = _penalty_value(penalty, objective)
    tol = -math.inf if tol is None else tol
    blowup = math.inf if divergence_factor is None else divergence_factor

    params = _pack(objective, w0, c0)
    state = init_state(rule, params) if state is None else dict(state)
    t, samples = state["t"], state["samples"]
    rule_state, eta_scale = state["rule"], state["eta_scale"]
    avg, n_avg = state["average"], state["n_average"]

    # Reference for divergence: the objective at the start and at zero coefficients.
    # The latter needs no pass over X; the former is computed only when the running
    # loss exceeds the bound the latter gives (never, in an honest run), so a
    # partial_fit call pays no extra pass over its batch.
    zeros = xp.zeros((objective.n_samples,) + objective.coef_shape[1:], dtype=dtype)
    ref = max(
        objective.loss_value(zeros),
        float(xp.finfo(dtype).tiny),
    )
    ref_complete = False

    def full_reference():
        value = objective.loss_value(objective.raw(w0, c0))
        value += objective.penalty_value(w0)
        return max(ref, value)

    if not math.isfinite(ref):
        _overflow(ref, solver_name, dtype)

    curve, scores = [], []
    best_loss, best_score, no_improvement = math.inf, -math.inf, 0
    best_params, converged = None, False
    eta = eta_scale * schedule(t + 1)
    start_time = time.perf_counter()
    epoch = 0
    for epoch in range(1, max_iter + 1):
        order = rows
        if shuffle:
            order = random_state.permutation(n_rows if rows is None else rows)
        epoch_loss = 0.0
        for start in range(0, n_rows, batch_size):
            stop = min(start + batch_size, n_rows)
            idx = slice(start, stop) if order is None else order[start:stop]
            w, c = _unpack(objective, params, as_float=True)
            value, share, gw, gc = objective.batch_gradient(idx, w, c)
            epoch_loss += value
            if penalty_value is not None:
                epoch_loss += share * penalty_value(w)
            # (not x < inf also catches NaN)
            if not epoch_loss < math.inf or epoch_loss > blowup * ref:
                if not ref_complete:
                    ref, ref_complete = full_reference(), True
                    if not math.isfinite(ref):
                        _overflow(ref, solver_name, dtype)
                if not epoch_loss < math.inf or epoch_loss > blowup * ref:
                    _diverged(ref, epoch_loss, epoch, t + 1, schedule, eta, solver_name)
            # The batch mean of the per-row gradients: n / |B| times the sum of the
            # u-weighted ones (u = 1/n unweighted).
            scale = n_rows / (stop - start)
            grad = xp.empty(params.shape[0], dtype=dtype)
            if decay:
                grad[:n_coef] = xp.reshape(scale * gw + decay * w, (-1,))
            else:
                grad[:n_coef] = xp.reshape(scale * gw, (-1,))
            grad[n_coef:] = scale * intercept_step_scale * gc
            t += 1
            eta = eta_scale * schedule(t)
            direction, step, rule_state = rule.update(grad, rule_state, eta)
            params = params - step * direction
            if prox_penalty is not None:
                step_w = step if isinstance(step, float) else step[:n_coef]
                params[:n_coef] = prox_penalty.prox(params[:n_coef], step_w)
            samples += stop - start
            if average and samples >= average:
                n_avg += 1
                avg = params if avg is None else avg + (params - avg) / n_avg

        if not bool(xp.all(xp.isfinite(params))):
            _diverged(ref, math.inf, epoch, t, schedule, eta, solver_name)
        report = params if avg is None else avg
        curve.append(epoch_loss)
        if validation_score is not None:
            score = validation_score(*_split(objective, report))
            scores.append(score)
            improved = score >= best_score + tol
            if score > best_score:
                best_score, best_params = score, report
        else:
            improved = epoch_loss <= best_loss - tol
        best_loss = min(best_loss, epoch_loss)
        no_improvement = 0 if improved else no_improvement + 1

        if verbose:
            extra = f"  validation score {scores[-1]:.6f}" if scores else ""
            # The stopping measure: epochs in a row without an improvement by tol.
            stop = (
                f"  no improvement by tol={tol:g}: {no_improvement}/{n_iter_no_change}"
                if tol is not None and math.isfinite(tol)
                else ""
            )
            print(
                f"[{solver_name}] epoch {epoch:4d}  loss {epoch_loss:.8e}  "
                f"eta {eta:.3e}{extra}{stop}  {time.perf_counter() - start_time:.2f}s"
            )
        if callback is not None:
            callback(epoch, _unpack(objective, report)[0], epoch_loss)
        if no_improvement >= n_iter_no_change:
            if schedule.adaptive and eta > _ETA_FLOOR:
                eta_scale /= 5.0
                no_improvement = 0
            else:
                converged = True
                break

    result_params = best_params if best_params is not None else report
    w_out, c_out = _unpack(objective, result_params, as_float=True)
    new_state = {
        "t": t,
        "samples": samples,
        "rule": rule_state,
        "eta_scale": eta_scale,
        "average": avg,
        "n_average": n_avg,
    }
    return SolverResult(
        coef=w_out,
        intercept=objective.intercept(w_out, c_out),
        n_iter=epoch,
        converged=converged,
        objective_curve=curve,
        extra={
            "state": new_state,
            "offset": c_out,
            "standard": _split(objective, params),
            "averaged": None if avg is None else _split(objective, avg),
            "validation_scores": scores,
            "best_validation_score": None if not scores else best_score,
            "eta": eta,
        },
    )


def _pack(objective, w, c):
    """Return the flat parameters ``[w.ravel(), c]`` that the step rules update."""
    xp = objective.xp
    c = xp.reshape(xp.asarray(c, dtype=objective.dtype), (-1,))
    return xp.concat([xp.reshape(w, (-1,)), c])


def _unpack(objective, params, as_float=False):
    """Return ``(w, c)`` from the flat parameters (``c`` a float with ``as_float``)."""
    xp = objective.xp
    n_coef = math.prod(objective.coef_shape)
    w = xp.reshape(params[:n_coef], objective.coef_shape)
    if objective.n_outputs > 1:
        return w, params[n_coef:]
    c = params[n_coef]
    return w, objective.backend.to_float(c) if as_float else c


def _penalty_value(penalty, objective):
    """Return ``w -> penalty(w)`` as a float, or None without a penalty.

    The epoch loss adds the penalty once per batch; for the elastic-net family it
    is two dot products, not a pass through the generic, namespace-checking
    ``value``.
    """
    if penalty is None:
        return None
    l1, l2 = penalty.elastic_net_weights() or (None, None)
    if l1 is None or l2 is None:
        return objective.penalty_value
    if not l1 and not l2:
        return None
    xp = objective.coef_xp

    def value(w):
        out = 0.0
        if w.ndim > 1:  # the coefficients of a loss of several outputs
            w = xp.reshape(w, (-1,))
        if l2:
            out += 0.5 * l2 * float(xp.vecdot(w, w))
        if l1:
            out += l1 * float(xp.sum(xp.abs(w)))
        return out

    return value


def _overflow(ref, solver_name, dtype):
    """Raise the ValueError of an objective that overflows before any step."""
    # Nothing has been stepped yet: the data, not the step size, is at fault.
    raise ValueError(
        f"The objective of the {solver_name!r} solver is {ref:.3g} before its "
        f"first step: the loss of y (or of X @ w) overflows {dtype}. Scale y and "
        "the features (e.g. with sklearn.preprocessing.StandardScaler), or use "
        "solver='gd', which fits on centered data."
    )


def _split(objective, params):
    """Return ``(w, b)`` from the flat ``[w, c]``, ``b`` the uncentered intercept."""
    w, c = _unpack(objective, params, as_float=True)
    return w, objective.intercept(w, c)


def _diverged(ref, value, epoch, t, schedule, eta, solver_name):
    """Raise the ValueError of a diverging fit, naming the learning-rate settings."""
    raise ValueError(
        f"The {solver_name!r} solver diverged: the running loss reached {value:.3g} "
        f"(reference {ref:.3g}) at epoch {epoch}, update {t}, with "
        f"{schedule.describe()} (current step size eta={eta:.3g}). "
        f"{_DIVERGENCE_HINT}"
    )
