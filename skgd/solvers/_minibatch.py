# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Minibatch solver: batch -> gradient -> step rule -> prox, epoch after epoch.

It drives the step rules and schedules of :mod:`skgd.optimizers` over the rows of a
:class:`~skgd._objective.LinearObjective`; it knows nothing of the kind of X (the
objective's backend slices the batches) nor of the estimator (which owns data
splitting and the fitted attributes). One pass over the rows is
:meth:`_Stepper.epoch`; the epochs, and the stopping rule between them, are
:func:`~skgd.solvers._epochs.run_epochs`'s.
"""

import math
from dataclasses import dataclass
from typing import NamedTuple

from skgd._contract import check_support
from skgd._minibatch_view import zeros
from skgd.solvers._epochs import Epoch, Stopping, run_epochs
from skgd.solvers._result import SolverResult

# A running epoch loss this many times the reference loss is divergence, not noise:
# an honest trajectory stays within a small factor of the loss at its start or at
# zero coefficients, while a step size beyond stability grows the loss geometrically.
_BLOWUP = 1e4

_DIVERGENCE_HINT = (
    "Scale the features (e.g. with sklearn.preprocessing.StandardScaler), use a "
    "smaller eta0, or use solver='gd', whose step size needs no tuning."
)


class _PenaltyParts(NamedTuple):
    """How the solver applies a penalty: ``decay`` in the gradient, ``prox`` after.

    ``l1``/``l2`` are the strengths of an elastic-net-family penalty, None for any
    other penalty.
    """

    decay: float
    prox: object
    l1: float | None
    l2: float | None


def _split_penalty(penalty):
    """Return the :class:`_PenaltyParts`: the L2 part as weight decay, the rest by prox.

    Penalties of the elastic-net family (``l1``/``l2`` strengths) put their squared
    L2 part in the gradient, which is SGDRegressor's weight decay, and their L1
    part in a soft-threshold. Any other penalty is applied whole through its prox.
    This is the one place that reads the penalty's parts.
    """
    l1, l2 = penalty.elastic_net_weights() or (None, None)
    if l1 is None or l2 is None:
        return _PenaltyParts(0.0, penalty, None, None)
    if not l1:
        return _PenaltyParts(float(l2), None, l1, l2)
    from skgd.penalties import L1

    return _PenaltyParts(float(l2), L1(alpha=float(l1)), l1, l2)


class MinibatchState(NamedTuple):
    """What a stochastic run carries from epoch to epoch, and to the next call.

    A named tuple, as optax's states are: it pickles, compares and copies as the
    plain values it holds.

    Parameters
    ----------
    t : int, default=0
        Updates made: the schedules' counter.
    samples : int, default=0
        Rows seen.
    rule : tuple, default=()
        The step rule's state.
    eta_scale : float, default=1.0
        The reduction factor of ``"adaptive"``.
    average : array or None, default=None
        The running mean of the iterates, None before averaging starts.
    n_average : int, default=0
        Iterates in the average.
    l1 : tuple, default=()
        The cumulative L1 penalty ``(u, q)`` (see :func:`solve_minibatch`'s
        ``cumulative_l1``): the penalty each coefficient could have received, and
        the penalty each one did; empty before the first update.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.optimizers import adam
    >>> from skgd.solvers._minibatch import MinibatchState
    >>> state = MinibatchState(rule=adam().init(np.zeros(3)))
    >>> state.t, state.eta_scale
    (0, 1.0)
    """

    t: int = 0
    samples: int = 0
    rule: tuple = ()
    eta_scale: float = 1.0
    average: object = None
    n_average: int = 0
    l1: tuple = ()

    def eta(self, schedule):
        """Return the step size of the last update (of the first, before any)."""
        return self.eta_scale * schedule(max(self.t, 1))

    def reduced(self, divisor):
        """Return the state with the step of ``"adaptive"`` divided by ``divisor``."""
        return self._replace(eta_scale=self.eta_scale / divisor)


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
    average_decay=0.0,
    rows=None,
    state=None,
    validation_score=None,
    verbose=0,
    callback=None,
    solver_name="sgd",
    divergence_factor=_BLOWUP,
    intercept_step_scale=1.0,
    weight_sum=None,
    cumulative_l1=False,
    max_dloss=None,
):
    r"""Minimise an objective by minibatch stochastic proximal gradient steps.

    **Update.** For a batch ``B`` of ``|B|`` rows out of ``n`` with normalised
    weights ``u``, the gradient of the smooth part is estimated without bias by
    ``n / |B| * sum_{i in B} u_i L'_i [x_i, 1]`` (with ``u_i = 1/n`` and
    ``|B| = 1``, SGDRegressor's ``dloss * x``): the weights count relative to
    their mean. With ``weight_sum`` ``S``, the sum of the raw weights ``s_i`` of
    the rows, it is ``S / |B| * sum_{i in B} u_i L'_i [x_i, 1]``, the batch mean
    of ``s_i L'_i [x_i, 1]``: the weights count as given, as in SGDRegressor,
    whatever rows come with them (a stream's chunks). The squared-L2 part of an
    elastic-net penalty is added as weight decay, the rule turns the gradient into
    a direction and a (scalar or per-coordinate) step ``eta``, and the L1 part (or
    any other penalty) is applied by its prox with that step, so L1 gives exact
    zeros. With ``cumulative_l1``, the L1 part is instead SGDClassifier's
    cumulative penalty (Tsuruoka et al.): each coefficient is clipped towards
    zero by the penalty it could have received over all the updates so far less
    the penalty it did receive, which keeps the coefficients that per-row noise
    moves away from zero at exactly zero. The offset ``c`` is a free variable
    updated by the same rule and never penalized.

    **Schedules** count updates: update ``t`` (1-based, carried in ``state``) uses
    ``eta_scale * schedule(t)``; a schedule with ``per_row`` counts rows instead:
    an update on ``B`` rows after ``s`` rows seen uses
    ``eta_scale * schedule.rows(s, B)`` (:class:`~skgd.optimizers.PerRow`).

    **Averaging** (``average > 0``): once ``average`` rows have been seen, the
    running mean of the iterates after each update (prox included) is kept, as in
    SGDRegressor's ASGD. The mean of proximal iterates converges to the optimum of the
    penalized objective with L1 and elastic net too; it is not exactly sparse. With
    ``average_decay`` ``gamma > 0`` the mean is polynomial-decay averaging (Shamir
    and Zhang): the ``n``-th iterate enters with weight ``(1 + gamma) / (n + gamma)``,
    so the early iterates, far from the optimum, fade out.

    **Epoch loss.** The running average over the epoch of the batch losses (taken
    at the iterate before each update, so no extra pass) plus the penalty, weighted
    by each batch's share of the weights: SGDRegressor's ``objective_sum``.

    **Stopping** (SGDRegressor's rule, :class:`~skgd.solvers._epochs.Stopping`): an
    epoch counts as no improvement when its loss exceeds the best one minus ``tol``
    (with ``validation_score``, when the score is below the best plus ``tol``).
    After ``n_iter_no_change`` such epochs, an adaptive schedule divides its step by
    5 (down to ``1e-6``), any other run stops. ``tol=None`` runs ``max_iter``
    epochs. The epochs run in :func:`~skgd.solvers._epochs.run_epochs`, the loop
    the Dask stream shares.

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
    average_decay : float, default=0.0
        The ``gamma`` of polynomial-decay averaging; 0 is the plain mean.
    rows : integer array or None, default=None
        The rows to train on (the others, e.g. a validation set, should carry zero
        weight in the objective); None means all.
    state : MinibatchState or None, default=None
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
    weight_sum : float or None, default=None
        The sum of the raw sample weights of the rows trained on; None counts
        the weights relative to their mean (``n_rows``, the sum of unit weights).
    cumulative_l1 : bool, default=False
        Apply the L1 part of an elastic-net-family penalty as scikit-learn's SGD
        does (the cumulative penalty) rather than by its prox; for a rule whose
        step is a scalar.
    max_dloss : float or None, default=None
        Clip each row's loss derivative to ``[-max_dloss, max_dloss]``, as
        scikit-learn's SGD does (``1e12``) so that a decaying step can recover
        from a transient blow-up; None does not clip.

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
    approximation by averaging", SIAM J. Control Optim., 1992. Y. Tsuruoka, J.
    Tsujii and S. Ananiadou, "Stochastic gradient descent training for
    L1-regularized log-linear models with cumulative penalty", ACL-IJCNLP, 2009.
    O. Shamir and T. Zhang, "Stochastic gradient descent for non-smooth
    optimization: convergence results and optimal averaging schemes", ICML 2013.
    """
    check_support(objective.loss, objective.penalty, solver_name)
    parts = _split_penalty(objective.penalty)
    guard = _DivergenceGuard(
        objective, w0, c0, divergence_factor, schedule, solver_name
    )
    stepper = _Stepper(
        objective,
        rule,
        schedule,
        batch_size=batch_size,
        average=average,
        parts=parts,
        penalty_value=_penalty_value(objective.penalty, parts, objective),
        intercept_step_scale=intercept_step_scale,
        guard=guard,
        cumulative_l1=bool(cumulative_l1 and parts.l1),
        max_dloss=max_dloss,
        average_decay=float(average_decay),
    )
    params = _pack(objective, w0, c0)
    state = MinibatchState(rule=rule.init(params)) if state is None else state
    n_rows = objective.n_samples if rows is None else int(rows.shape[0])
    weight_sum = n_rows if weight_sum is None else weight_sum

    def one_epoch(carry, epoch):
        order = rows
        if shuffle:
            order = random_state.permutation(n_rows if rows is None else rows)
        try:
            params, state, loss, eta = stepper.epoch(
                *carry, order, n_rows, weight_sum, epoch
            )
        except FloatingPointError as error:
            # Under np.errstate(all="raise") numpy raises before the divergence
            # test sees a non-finite value: SGDClassifier's error, for the data.
            raise ValueError(
                f"Floating-point under-/overflow occurred at epoch #{epoch}. "
                "Scaling input data with StandardScaler or MinMaxScaler might help."
            ) from error
        report = params if state.average is None else state.average
        score = None
        if validation_score is not None:
            score = validation_score(*_split(objective, report))
        return (params, state), Epoch(loss, eta, score, report)

    on_epoch = None
    if callback is not None:

        def on_epoch(epoch, report):
            callback(epoch, _unpack(objective, report.params)[0], report.loss)

    run = run_epochs(
        one_epoch,
        (params, state),
        Stopping(tol, n_iter_no_change, adaptive=schedule.adaptive),
        max_iter=max_iter,
        reduce_step=_reduce_step,
        verbose=verbose,
        name=solver_name,
        callback=on_epoch,
    )
    return _result(objective, run)


def _reduce_step(carry, divisor):
    """Divide the step of ``"adaptive"``: the ``reduce_step`` of the epoch loop."""
    params, state = carry
    return params, state.reduced(divisor)


def _result(objective, run):
    """Return the SolverResult of a run of :func:`run_epochs` over ``(params, state)``.

    The coefficients are the best ones under early stopping, else the last report
    (the average once averaging has started).
    """
    params, state = run.carry
    best = run.best if run.best is not None else run.last.params
    w_out, c_out = _unpack(objective, best, as_float=True)
    b_out = objective.intercept(w_out, c_out)
    # (Without averaging or early stopping the result is the last iterate; with
    # averaging, without early stopping, the average: neither is split twice.)
    averaged = None
    if best is state.average:
        averaged = (w_out, b_out)
    elif state.average is not None:
        averaged = _split(objective, state.average)
    standard = (w_out, b_out) if best is params else _split(objective, params)
    return SolverResult(
        coef=w_out,
        intercept=b_out,
        n_iter=run.n_iter,
        converged=run.converged,
        objective_curve=run.curve,
        extra={
            "state": state,
            "offset": c_out,
            "standard": standard,
            "averaged": averaged,
            "validation_scores": run.scores,
            "best_validation_score": run.best_score,
            "eta": run.last.eta,
        },
    )


@dataclass(frozen=True)
class _Stepper:
    """One pass over the rows: batch -> gradient -> step rule -> prox -> average.

    The options of a run, fixed; the iterate and the :class:`MinibatchState` go in
    and out of :meth:`epoch`. ``guard`` is the run's :class:`_DivergenceGuard`.
    """

    objective: object
    rule: object
    schedule: object
    batch_size: int
    average: int
    parts: _PenaltyParts
    penalty_value: object
    intercept_step_scale: float
    guard: object
    cumulative_l1: bool = False
    max_dloss: float | None = None
    average_decay: float = 0.0

    def epoch(self, params, state, order, n_rows, weight_sum, epoch):
        """Return ``(params, state, loss, eta)`` after one pass over the rows.

        ``order`` holds the rows in the order of the pass (None: ``0..n_rows-1``),
        ``weight_sum`` the sum of their weights (see :func:`solve_minibatch`);
        ``loss`` is the running epoch loss and ``eta`` the last update's step.
        """
        objective, rule, schedule = self.objective, self.rule, self.schedule
        guard, penalty_value = self.guard, self.penalty_value
        decay, prox = self.parts.decay, self.parts.prox
        xp, dtype = objective.xp, objective.dtype
        n_coef = math.prod(objective.coef_shape)
        # The coefficients and the offset are views of params, taken without
        # _unpack's reshapes (namespace calls) where the shapes are flat already.
        flat, one_output = len(objective.coef_shape) == 1, objective.n_outputs == 1
        t, samples, rule_state = state.t, state.samples, state.rule
        eta_scale, avg, n_avg = state.eta_scale, state.average, state.n_average
        l1_state = state.l1
        if self.cumulative_l1:
            prox = None
            if not l1_state:
                l1_state = (0.0, xp.zeros(n_coef, dtype=dtype))
        eta, epoch_loss = eta_scale * schedule(t + 1), 0.0
        per_row, gamma = getattr(schedule, "per_row", False), self.average_decay
        # One gradient buffer per pass: the rules return a new state (Adam's
        # moments, the momentum buffer) and the step consumes the direction at
        # once, so no batch's gradient outlives the next one's.
        grad = xp.empty(params.shape[0], dtype=dtype)
        for start in range(0, n_rows, self.batch_size):
            stop = min(start + self.batch_size, n_rows)
            idx = slice(start, stop) if order is None else order[start:stop]
            w = params[:n_coef]
            if not flat:
                w = xp.reshape(w, objective.coef_shape)
            c = float(params[n_coef]) if one_output else params[n_coef:]
            value, share, gw, gc = objective.batch_gradient(
                idx, w, c, max_dloss=self.max_dloss
            )
            epoch_loss += value
            if penalty_value is not None:
                epoch_loss += share * penalty_value(w)
            # (not x < inf also catches NaN)
            if not epoch_loss < math.inf or epoch_loss > guard.bound:
                guard.check(epoch_loss, epoch, t + 1, eta)
            # The batch mean of the per-row gradients times their weights: S / |B|
            # times the sum of the u-weighted ones (u = s / S).
            scale = weight_sum / (stop - start)
            t += 1
            eta = eta_scale * (
                schedule.rows(samples, stop - start) if per_row else schedule(t)
            )
            if decay:
                # A decay step eta * decay beyond 1 would flip w's sign and grow
                # it; as SGDClassifier clips its factor 1 - eta * alpha at 0,
                # the step shrinks w to 0 at most.
                shrink = min(decay, 1.0 / eta) if eta > 0 else decay
                gw = scale * gw + shrink * w
            else:
                gw = scale * gw
            grad[:n_coef] = gw if flat else xp.reshape(gw, (-1,))
            grad[n_coef:] = scale * self.intercept_step_scale * gc
            direction, step, rule_state = rule.update(grad, rule_state, eta)
            params = params - step * direction
            if prox is not None:
                step_w = step if isinstance(step, float) else step[:n_coef]
                params[:n_coef] = prox.prox(params[:n_coef], step_w)
            elif self.cumulative_l1:
                l1_state = _cumulative_l1(
                    xp, params, n_coef, l1_state, step * self.parts.l1
                )
            samples += stop - start
            if self.average and samples >= self.average:
                n_avg += 1
                if avg is None:
                    avg = params
                elif gamma:
                    avg = avg + (params - avg) * ((1.0 + gamma) / (n_avg + gamma))
                else:
                    avg = avg + (params - avg) / n_avg
        if not bool(xp.all(xp.isfinite(params))):
            guard.diverged(math.inf, epoch, t, eta)
        state = MinibatchState(t, samples, rule_state, eta_scale, avg, n_avg, l1_state)
        return params, state, epoch_loss, eta


def _cumulative_l1(xp, params, n_coef, l1_state, penalty):
    """Apply the cumulative L1 penalty in place; return its new ``(u, q)``.

    ``u`` grows by this update's ``penalty`` (step times the L1 strength); each
    coefficient moves towards zero by ``u`` plus (if positive) or minus (if
    negative) ``q``, the penalty it received so far (negative), without crossing
    zero, as scikit-learn's ``l1penalty``.
    """
    u, q = l1_state
    u += penalty
    w = params[:n_coef]
    down, up = w - (u + q), w + (u - q)
    shrunk = xp.where(
        w > 0,
        xp.where(down > 0, down, 0.0),
        xp.where(w < 0, xp.where(up < 0, up, 0.0), w),
    )
    q = q + (shrunk - w)
    params[:n_coef] = shrunk
    return u, q


class _DivergenceGuard:
    """The divergence test of a run: its running loss against a reference objective.

    The reference is the larger of the objective at zero coefficients, which needs
    no pass over X, and at the start ``(w0, c0)``; the latter is computed only when
    the running loss exceeds the bound the former gives (never, in an honest run),
    so a partial_fit call pays no extra pass over its batch. ``bound`` is
    ``factor`` times the reference (``inf`` with ``factor=None`` or a loss of 0 at
    zero).
    """

    def __init__(self, objective, w0, c0, factor, schedule, solver_name):
        xp, dtype = objective.xp, objective.dtype
        at_zero = objective.loss_value(
            zeros(xp, (objective.n_samples,) + objective.coef_shape[1:], dtype)
        )
        self.ref = max(at_zero, float(xp.finfo(dtype).tiny))
        # A loss of 0 at zero (the perceptron's) gives no scale to compare with:
        # only non-finite values are divergence then.
        self.factor = math.inf if factor is None or at_zero == 0 else factor
        self.schedule, self.solver_name, self.dtype = schedule, solver_name, dtype
        self._start = (objective, w0, c0)
        self._set_reference(self.ref)

    def _set_reference(self, ref):
        if not math.isfinite(ref):
            _overflow(ref, self.solver_name, self.dtype)
        self.ref, self.bound = ref, self.factor * ref

    def check(self, value, epoch, t, eta):
        """Raise if ``value``, a running loss beyond the bound, is divergence."""
        if self._start is not None:
            objective, w0, c0 = self._start
            self._start = None
            start = objective.loss_value(objective.raw(w0, c0))
            start += objective.penalty_value(w0)
            self._set_reference(max(self.ref, start))
        if not value < math.inf or value > self.bound:
            self.diverged(value, epoch, t, eta)

    def diverged(self, value, epoch, t, eta):
        """Raise the ValueError of a diverging fit, naming the learning rate."""
        raise ValueError(
            f"The {self.solver_name!r} solver diverged: the running loss reached "
            f"{value:.3g} (reference {self.ref:.3g}) at epoch {epoch}, update {t}, "
            f"with {self.schedule.describe()} (current step size eta={eta:.3g}). "
            f"{_DIVERGENCE_HINT}"
        )


def _pack(objective, w, c):
    """Return the flat parameters ``[w.ravel(), c]`` that the step rules update."""
    xp = objective.xp
    n_coef = math.prod(objective.coef_shape)
    dtype = xp.result_type(w.dtype, objective.dtype)
    params = xp.empty(n_coef + objective.n_outputs, dtype=dtype)
    params[:n_coef] = w if w.ndim == 1 else xp.reshape(w, (-1,))
    params[n_coef:] = c
    return params


def _unpack(objective, params, as_float=False):
    """Return ``(w, c)`` from the flat parameters (``c`` a float with ``as_float``)."""
    xp = objective.xp
    n_coef = math.prod(objective.coef_shape)
    w = params[:n_coef]
    if len(objective.coef_shape) > 1:  # (a flat w needs no namespace reshape)
        w = xp.reshape(w, objective.coef_shape)
    if objective.n_outputs > 1:
        return w, params[n_coef:]
    c = params[n_coef]
    return w, objective.backend.to_float(c) if as_float else c


def _penalty_value(penalty, parts, objective):
    """Return ``w -> penalty(w)`` as a float, or None without a penalty.

    The epoch loss adds the penalty once per batch; for the elastic-net family it
    is two dot products, not a pass through the generic, namespace-checking
    ``value``.
    """
    if penalty is None:
        return None
    l1, l2 = parts.l1, parts.l2
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
            out += 0.5 * l2 * float(w @ w)
        if l1:
            out += l1 * float(xp.sum(xp.abs(w)))
        return out

    return value


def _overflow(ref, solver_name, dtype):
    """Raise the ValueError of an objective that overflows before any step."""
    # Nothing has been stepped yet: the data, not the step size, is at fault.
    raise ValueError(
        f"The objective of the {solver_name!r} solver is {ref:.3g} before its "
        f"first step: the loss of X @ w at the start overflows {dtype} (y is "
        "fitted at any scale). Start from smaller coefficients, or scale the "
        "features (e.g. with sklearn.preprocessing.StandardScaler)."
    )


def _split(objective, params):
    """Return ``(w, b)`` from the flat ``[w, c]``, ``b`` the uncentered intercept."""
    w, c = _unpack(objective, params, as_float=True)
    return w, objective.intercept(w, c)
