# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The stochastic solvers ("sgd", "adam") behind the estimators' fit and partial_fit.

:func:`fit_minibatch` fits in-memory data (numpy, scipy.sparse): it resolves where a
run starts (a fresh fit, a warm start, one more ``partial_fit`` pass), builds the
learning rule, runs :func:`~skgd.solvers._minibatch.solve_minibatch` once per
target and sets the fitted attributes. :func:`stream_dask_chunks` fits Dask input
one row chunk at a time, each chunk one ``partial_fit`` pass; its epochs run in the
same loop, under the same stopping rule, as the in-memory epochs
(:func:`~skgd.solvers._epochs.run_epochs`).

A stream (``partial_fit`` calls, Dask chunks) carries its whole optimizer state
from call to call and takes nothing from a call's chunk but its rows: its first
batch fixes the starting intercept, the units of Adam's steps and the cap of
SGD's, and its weights count as given. At the default ``learning_rate``, its
steps decay with the rows seen (:func:`_stream_rule`). A call makes at least
``_MIN_UPDATES`` updates. So, with ``shuffle=False``, chunks of at least that
many whole batches give the steps of the one array they split.
"""

import dataclasses
import math
from dataclasses import dataclass

import numpy as np  # noqa: TID251 (fitted attributes are numpy, as in _estimator)
from array_api_compat import numpy as np_compat
from sklearn.base import is_classifier
from sklearn.utils import check_random_state

from skgd._backend import get_backend, is_dask, is_sparse
from skgd._base import (
    _AVERAGING_ATTRIBUTES,
    _SPARSE_INTERCEPT_DECAY,
    _is_seed,
    _offset_of,
    _SeededPermutations,
    _squeeze_offset,
    _sum_curves,
)
from skgd._objective import LinearObjective
from skgd.optimizers import PerRow, adam, get_schedule, sgd
from skgd.solvers._epochs import Epoch, Stopping, run_epochs
from skgd.solvers._minibatch import _BLOWUP, solve_minibatch
from skgd.solvers._result import warn_not_converged

# The fewest updates a partial_fit call makes (see _batch_size).
_MIN_UPDATES = 4
# scikit-learn's SGD clips each row's loss derivative to this bound (MAX_DLOSS).
_MAX_DLOSS = 1e12


@dataclass(frozen=True)
class _Start:
    """Where a run starts.

    Coefficients ``(n_targets, *coef_shape)``, intercepts (None: the solver's own
    start), one optimizer state per target (None: a fresh optimizer) and one
    scale of Adam's steps per target (None: from the data, see
    :func:`_adam_scale`).
    """

    coef: object
    intercept: object
    states: list
    scales: list
    step_cap: float | None = None


def fit_minibatch(
    est,
    X,
    y,
    sample_weight,
    backend,
    loss,
    penalty,
    solver,
    init,
    partial,
    verbose=None,
    stream=None,
):
    """Fit ``est`` (or, with ``partial``, make one pass) with a stochastic solver.

    ``init`` is ``(coef_init, intercept_init)``, the arguments of ``fit`` (Nones for
    ``partial_fit``); ``verbose`` overrides ``est.verbose`` (the Dask stream's chunk
    passes are quiet: the stream logs its epochs). ``stream`` says whether the
    pass is a stream's (see :func:`_stream_rule`); None: ``partial``. A Dask
    fit's chunk passes are partial, but its epochs are a fit's, whose
    ``"adaptive"`` step divides as in memory.
    """
    if is_dask(X):
        coef_init, intercept_init = init
        return est._stream_dask_chunks(
            X,
            y,
            sample_weight,
            loss,
            penalty,
            solver,
            coef_init=coef_init,
            intercept_init=intercept_init,
            partial=partial,
        )
    if backend.coef_xp is not np_compat:
        raise ValueError(
            f"solver={solver!r} takes numpy, scipy.sparse and Dask arrays; for "
            f"{type(X).__module__} arrays use solver='gd' (or 'auto')."
        )
    Y = y.reshape(-1, 1) if y.ndim == 1 else y
    n_outputs = getattr(loss, "n_outputs", 1)
    coef_shape = (X.shape[1],) if n_outputs == 1 else (X.shape[1], n_outputs)
    # batch_size=1 without momentum is SGDRegressor, formulas included: its
    # uncentered model from b = 0, its damped intercept on sparse data, and no
    # divergence test beyond non-finite values (its decaying schedules may
    # recover from a transient blow-up, e.g. "optimal" with a large first step).
    plain = solver == "sgd" and est.batch_size == 1 and est.momentum == 0
    start = _start(est, X, Y, coef_shape, solver, init, partial, backend)
    rows, train_weight, validation = None, sample_weight, None
    if est.early_stopping and not partial:
        rows, train_weight, validation = est._validation_split(
            X, Y, sample_weight, backend
        )
    # fit centers X implicitly (in memory: one pass gives the means), which
    # keeps features with large offsets from limiting the step size; a stream
    # (partial_fit) cannot, and uses SGDRegressor's uncentered model, as does
    # SGDRegressor's own setting.
    base = LinearObjective.minibatch(
        backend,
        X,
        y if y.ndim == 1 else backend.xp.asarray(Y[:, 0]),
        loss,
        penalty,
        sample_weight=train_weight,
        fit_intercept=est.fit_intercept,
        centered=not (partial or plain),
    )
    options = _solver_options(est, X, loss, solver, partial, plain, rows, sample_weight)
    if verbose is not None:
        options["verbose"] = verbose
    step_cap = start.step_cap
    if (partial if stream is None else stream) and _per_row(est, plain):
        if step_cap is None:
            step_cap = _step_cap(est, X, loss, solver, sample_weight)
        options.update(_stream_rule(est, solver, step_cap))
    results, scales = [], []
    for k in range(Y.shape[1]):
        objective = base if k == 0 else base.with_target(backend.xp.asarray(Y[:, k]))
        c0 = _start_offset(est, objective, start, k, plain, partial, sample_weight)
        scale = start.scales[k]
        if scale is None:
            scale = _adam_scale(est, objective, solver, partial, sample_weight)
        rule = options["rule"]
        if solver == "adam":
            rule = dataclasses.replace(rule, scale=scale)
        results.append(
            _solve_target(
                est, objective, start, k, c0, dict(options, rule=rule), validation
            )
        )
        scales.append(scale)
    _store(est, results, y, solver, partial, validation is not None, X.dtype)
    est._minibatch_state["scales"] = scales
    est._minibatch_state["step_cap"] = step_cap
    return est


def _random_source(est, partial):
    """Return the source of the shuffling permutations of a run."""
    if partial and _is_seed(est.random_state) and est.shuffle:
        return _SeededPermutations(int(est.random_state))
    return check_random_state(est.random_state)


def _solver_options(est, X, loss, solver, partial, plain, rows, sample_weight):
    """Return the keyword arguments of :func:`solve_minibatch` shared by the targets."""
    schedule, rule = _learning(est, loss, solver)
    return {
        "rule": rule,
        "schedule": schedule,
        "batch_size": _batch_size(est, X, partial),
        "max_iter": 1 if partial else est.max_iter,
        "tol": None if partial else est.tol,
        "n_iter_no_change": est.n_iter_no_change,
        "random_state": _random_source(est, partial),
        "shuffle": est.shuffle,
        "average": int(est.average),
        "rows": rows,
        "verbose": est.verbose,
        "solver_name": solver,
        "divergence_factor": None if plain else _BLOWUP,
        "intercept_step_scale": (
            _SPARSE_INTERCEPT_DECAY if plain and is_sparse(X) else 1.0
        ),
        # SGDRegressor's and SGDClassifier's L1 (the cumulative penalty) and
        # their clipped loss derivatives.
        "cumulative_l1": plain,
        "max_dloss": _MAX_DLOSS if plain else None,
        # A stream takes its weights as given: normalising them per call would
        # make each chunk's steps depend on the other rows of the chunk.
        "weight_sum": (
            float(np.sum(sample_weight))
            if partial and sample_weight is not None
            else None
        ),
    }


def _batch_size(est, X, partial):
    """Return the rows per batch of a run: ``batch_size``, smaller for a small chunk.

    A ``partial_fit`` call makes at least ``_MIN_UPDATES`` updates: its batches
    have ``min(batch_size, ceil(n_rows / _MIN_UPDATES))`` rows. The steps are
    per update, so a stream of chunks smaller than a few batches would learn
    little per sample (one update per 250-row chunk at ``batch_size=256``); large
    chunks keep their batches, and so the speed of vectorized steps.
    """
    if not partial:
        return est.batch_size
    return min(est.batch_size, -(-X.shape[0] // _MIN_UPDATES))


def _per_row(est, plain):
    """Return whether a stream's steps follow :func:`_stream_rule`."""
    return est.learning_rate == "adaptive" and not plain


# The per-row steps of a stream's "sgd" are twice those of invscaling, and its
# average forgets its early iterates at the rate of gamma = 4. Its "adam" takes
# 0.4 times their sum as its step, at most 10 eta0, with gamma = 2: Adam's move
# per update does not shrink with the gradient near the optimum, so on 1,000-row
# chunks (250-row batches) the cap holds for the whole stream and sets the
# noise of the iterates, which a longer average (gamma = 2) removes; 0.2, 5 eta0
# and gamma = 4 left Adam 0.005-0.012 R^2 under SGDRegressor on AR(1) streams
# (0.4, 10 eta0, 2: 0.004-0.005 under on 1,000-row chunks, above on 250-row
# ones). Measured on 250- and 1,000-row chunks of standardized and
# AR(1)-correlated (rho 0.5 to 0.95) streams; steps of 20 eta0 diverge on
# columns of scales 1e-3..1e3.
_STREAM_STEP_FACTOR = 2.0
_STREAM_AVERAGE_DECAY = 4.0
_STREAM_ADAM_FACTOR = 0.4
_STREAM_ADAM_CAP = 10.0
_STREAM_ADAM_AVERAGE_DECAY = 2.0


def _stream_rule(est, solver, step_cap):
    """Return the options of a stream's ``"adaptive"`` steps (``solve_minibatch``'s).

    ``"adaptive"`` divides the step between the epochs of a fit; a stream has no
    epochs to compare (each call is one), so its steps decay with the rows seen
    instead (:class:`~skgd.optimizers.PerRow`): an update on ``B`` rows takes
    about the sum of ``"invscaling"``'s per-row steps over them, times
    ``2 (1 - momentum)`` for ``"sgd"`` (a move of twice those steps, momentum
    included) and capped at ``step_cap`` (see :func:`_step_cap`), times 0.2 for
    ``"adam"`` and capped at ``10 eta0``. Without ``average``, ``coef_`` is a
    polynomial-decay average of the iterates (``gamma = 4``; 2 for ``"adam"``),
    which lowers the noise of a small batch's steps without holding back the
    large ones'.
    """
    decay = _STREAM_AVERAGE_DECAY
    if solver == "adam":
        factor, cap = _STREAM_ADAM_FACTOR, _STREAM_ADAM_CAP * est.eta0
        decay = _STREAM_ADAM_AVERAGE_DECAY
    else:
        mu = est.momentum
        factor, cap = _STREAM_STEP_FACTOR * (1.0 - mu if mu < 1.0 else 1.0), step_cap
    schedule = PerRow(est.eta0, est.power_t, factor, cap)
    if est.average:
        return {"schedule": schedule}
    return {"schedule": schedule, "average": 1, "average_decay": decay}


def _step_cap(est, X, loss, solver, sample_weight):
    """Return the largest step of a stream's ``"sgd"``: one over the curvature seen.

    The largest eigenvalue of the Hessian bound ``c / B sum_i s_i a_i a_i^T`` of
    the stream's first batch (its first ``batch_size`` rows, ``a_i`` the row with
    a 1 for the intercept, ``s_i`` its weight, ``c`` the loss's curvature bound),
    by power iteration: a gradient step beyond ``2 / lambda`` diverges, whatever
    the schedule asks. Fixed at the stream's first call, as the scale of Adam's
    steps is.
    """
    if solver == "adam":
        return math.inf
    rows = X[: est.batch_size]
    n = rows.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight[:n])
    ones = float(est.fit_intercept)
    v = np.random.default_rng(0).uniform(0.5, 1.5, rows.shape[1] + 1)
    lam, rows_t = 0.0, rows.T
    # v is updated in place (no append, no new array per iteration): the same
    # products and divisions, so the same cap to the last bit.
    for _ in range(30):
        r = s * (np.asarray(rows @ v[:-1]).ravel() + ones * v[-1])
        v[:-1] = np.asarray(rows_t @ r).ravel()
        v[-1] = ones * r.sum()
        v /= n
        lam = float(np.sqrt(v @ v))
        if not lam > 0:
            return math.inf
        v /= lam
    curvature = float(getattr(loss, "curvature_bound", None) or 1.0)
    return 1.0 / (curvature * lam)


def _learning(est, loss, solver):
    """Return the learning-rate schedule and the step rule of ``solver``."""
    schedule = get_schedule(
        est.learning_rate,
        eta0=est.eta0,
        power_t=est.power_t,
        alpha=est.alpha,
        loss=loss,
    )
    if solver == "adam":
        return schedule, adam(est.beta_1, est.beta_2, est.adam_eps)
    return schedule, sgd(est.momentum, est.nesterovs_momentum)


def _start(est, X, Y, coef_shape, solver, init, partial, backend):
    """Return the :class:`_Start` of a run: resume, warm start or a fresh start.

    ``init`` is ``(coef_init, intercept_init)``, the fit's arguments.
    """
    (coef_init, intercept_init), n_targets = init, Y.shape[1]
    previous = getattr(est, "_minibatch_state", None)
    resumable = (
        coef_init is None
        and intercept_init is None
        and previous is not None
        and previous["solver"] == solver
        and previous["coef"].shape == (n_targets, *coef_shape)
    )
    if resumable and partial:
        # One more pass of the stream: the optimizer's state goes on.
        return _Start(
            previous["coef"],
            previous["intercept"],
            previous["states"],
            previous["scales"],
            previous.get("step_cap"),
        )
    if resumable and est.warm_start:
        # A new fit from the last (not averaged) iterate with a fresh optimizer,
        # as SGDRegressor (t_ back to 1) and MLPRegressor (a new optimizer) do.
        fresh = [None] * n_targets
        return _Start(previous["coef"], previous["intercept"], fresh, fresh)
    if partial and hasattr(est, "coef_"):
        # After a fit by another solver: start from its coefficients.
        coef_init, intercept_init = est.coef_, est.intercept_
    W0, B0 = est._start_point(
        coef_init, intercept_init, n_targets, coef_shape, X.dtype, backend
    )
    return _Start(W0, B0, [None] * n_targets, [None] * n_targets)


def _start_offset(est, objective, start, k, plain, partial, sample_weight):
    """Return the offset ``c`` that the run on target ``k`` starts from.

    A run that continues (a stream's next pass, a warm start, ``intercept_init``)
    starts from its intercept. A new fit starts from the loss's best constant on
    all its rows. A new stream cannot see its rows in advance: a regressor's
    starts from the best constant of its first batch (the first ``batch_size``
    rows of the first ``partial_fit`` call), the same whatever the size of the
    chunks, and a classifier's from zero logits, as SGDClassifier's (the log-odds
    of a first batch that lacks a class would be extreme); so does
    SGDRegressor's own setting (``plain``).
    """
    w0 = start.coef[k]
    if not est.fit_intercept:
        return objective.offset(w0, 0.0)
    if start.intercept is not None:
        return objective.offset(w0, _offset_of(start.intercept[k, ...]))
    if not (partial or plain):
        return objective.initial_offset()
    if plain or is_classifier(est):
        return objective.offset(w0, 0.0)
    y, u = _first_batch(est, objective, sample_weight)
    best = objective.loss.constant_fit(y, u)
    return objective.offset(w0, objective.coef_value(best))


def _first_batch(est, objective, sample_weight):
    """Return the targets and normalised weights of a stream's first batch.

    The first ``batch_size`` rows of the first call fix what a stream takes from
    its data (its starting intercept, the scale of Adam's steps): they are the
    same rows whatever the size of the chunks (of whole batches), so chunks give
    the steps of the one array they split.
    """
    xp, rows = objective.xp, slice(0, est.batch_size)
    u = objective.u[rows]
    if sample_weight is None or not float(xp.sum(u)) > 0:
        u = xp.ones_like(objective.y[rows])
    return objective.y[rows], u / xp.sum(u)


def _adam_scale(est, objective, solver, partial, sample_weight):
    """Return the scale of Adam's steps: the weighted std of a regression's target.

    Adam moves each coefficient by about its step per update, in the units of the
    coefficients; ``eta0`` is meant for a target of unit scale. Adam then runs on
    the problem in units of the target's spread (see :class:`skgd.optimizers.Adam`'s
    ``scale``): the same objective, penalties included, with steps that do not
    depend on the target's units. A fit measures the spread on its training rows,
    a stream on its first batch (kept for the stream's life); classifiers and a
    target without spread keep the unit scale.
    """
    if solver != "adam" or is_classifier(est):
        return 1.0
    xp = objective.xp
    if partial:
        y, u = _first_batch(est, objective, sample_weight)
    else:
        y, u = objective.y, objective.u
    centered = y - xp.sum(u * y)
    scale = float(xp.sqrt(xp.sum(u * centered * centered)))
    return scale if 0.0 < scale < math.inf else 1.0


def _solve_target(est, objective, start, k, c0, options, validation):
    """Run the solver on target ``k`` from ``c0``; warn if ``tol`` was not met."""
    w0 = objective.xp.asarray(start.coef[k])
    score = None
    if validation is not None:
        score = est._validation_scorer(objective.backend, *validation, k)
    res = solve_minibatch(
        objective,
        w0,
        c0,
        state=start.states[k],
        validation_score=score,
        **options,
    )
    if options["tol"] is not None and not res.converged:
        warn_not_converged(options["solver_name"], options["max_iter"])
    return res


def _store(est, results, y, solver, partial, validated, dtype):
    """Set the fitted attributes from the per-target results of a run."""

    def stack(arrays):
        if len(arrays) == 1:  # one target (a stream's usual case): no list copy
            return np.asarray(arrays[0], dtype=dtype)[None, ...]
        return np.stack([np.asarray(a, dtype=dtype) for a in arrays])

    standard = [r.extra["standard"] for r in results]
    states = [r.extra["state"] for r in results]
    _store_curves(est, results, partial, validated)
    est.t_ = float(1 + max(s.t for s in states))
    coefs = stack([w for w, _ in standard])
    intercepts = stack([c for _, c in standard])
    est._minibatch_state = {
        "solver": solver,
        "coef": coefs,
        "intercept": intercepts,
        "states": states,
    }
    # Like SGDRegressor, the averaging attributes exist only with averaging.
    for name in _AVERAGING_ATTRIBUTES:
        est.__dict__.pop(name, None)
    # A 1-D y (a stream's usual case) keeps each attribute's first row, taken
    # here once rather than stacked, stored and read back.
    if y.ndim == 1:
        first = lambda a: a[0]
        offset = lambda a: _squeeze_offset(a, dtype)
    else:
        first = offset = lambda a: a
    if est.average:
        est._standard_coef, est._standard_intercept = first(coefs), offset(intercepts)
        averaged = [r.extra["averaged"] for r in results]
        if all(a is not None for a in averaged):
            est._average_coef = first(stack([w for w, _ in averaged]))
            est._average_intercept = offset(stack([c for _, c in averaged]))
    est.coef_ = first(stack([r.coef for r in results]))
    est.intercept_ = offset(stack([r.intercept for r in results]))


def _store_curves(est, results, partial, validated):
    """Set ``loss_curve_``, ``n_iter_`` and the validation attributes."""
    curve = _sum_curves([r.objective_curve for r in results])
    previous = getattr(est, "loss_curve_", None)
    continued = partial and hasattr(est, "coef_") and isinstance(previous, list)
    if continued:
        # One more epoch of one long stream: loss_curve_ keeps len == n_iter_. It
        # grows in place, as MLPRegressor's does (a copy per call would make a
        # stream's calls cost in proportion to the calls before them), but only
        # once the fit commits (GDBase._fit_validated): the new values wait aside, so
        # a call that fails leaves the list as it was.
        est._curve_tail = curve
        est.n_iter_ = len(previous) + len(curve)
    else:
        est.loss_curve_ = curve
        est.n_iter_ = int(max(r.n_iter for r in results))
    if validated:
        scores = _sum_curves([r.extra["validation_scores"] for r in results])
        if len(results) > 1:
            scores = [v / len(results) for v in scores]
        est.validation_scores_ = scores
        est.best_validation_score_ = max(scores)
        est.best_loss_ = None
    else:
        est.validation_scores_ = None
        est.best_validation_score_ = None
        best = getattr(est, "best_loss_", None) if continued else None
        if continued and best is None:
            curve = [*previous, *curve]
        elif best is not None:
            curve = [best, *curve]
        est.best_loss_ = min(curve)


def stream_dask_chunks(est, X, y, sample_weight, loss, penalty, solver, init, partial):
    """Run :func:`_stream_chunks` all-or-nothing.

    Its chunk passes update the estimator's attributes one chunk after another:
    a run that raises (or is interrupted) puts them all back as they were.
    """
    saved = dict(est.__dict__)
    try:
        return _stream_chunks(
            est, X, y, sample_weight, loss, penalty, solver, init, partial
        )
    except BaseException:
        est.__dict__.clear()
        est.__dict__.update(saved)
        raise


def _stream_chunks(est, X, y, sample_weight, loss, penalty, solver, init, partial):
    """Run a stochastic solver on Dask input, one row chunk at a time.

    Each epoch visits the row chunks in a seeded random order (``shuffle``); each
    chunk is computed on the workers and arrives as one numpy block (the size of a
    chunk, never the whole of X), on which one stochastic pass runs exactly as
    ``partial_fit`` would, continuing the optimizer's state. The epoch loss is the
    weighted mean of the chunks' running losses; the epochs run in
    :func:`~skgd.solvers._epochs.run_epochs`, as in-memory epochs do, so ``tol``
    and ``n_iter_no_change`` apply to it as for in-memory data, and
    ``learning_rate="adaptive"`` divides the step of the chunk passes by 5 where a
    fit in memory would.
    """
    if est.early_stopping:
        raise ValueError(
            "early_stopping is not available for Dask input; hold out a "
            "validation set yourself, or use solver='gd'."
        )
    state = getattr(est, "_minibatch_state", None)
    width = getattr(getattr(est, "coef_", None), "shape", X.shape)[-1]
    if not partial and (not est.warm_start or width != X.shape[1]):
        # A new fit starts afresh, not from the last fit's coefficients, which
        # the chunk passes would continue (all of it is put back if it fails);
        # so does a warm start across a change of width, as in memory.
        for name in ("_minibatch_state", "coef_", "intercept_"):
            est.__dict__.pop(name, None)
    elif not partial and state is not None:
        # A warm start: the last iterate, with a fresh optimizer (see warm_start).
        fresh = [None] * len(state["states"])
        est._minibatch_state = dict(state, states=fresh, scales=fresh)
    chunks = _ChunkPass(est, X, y, sample_weight, loss, penalty, solver, partial)
    tol = None if partial else est.tol
    run = run_epochs(
        chunks.epoch,
        init,
        Stopping(tol, est.n_iter_no_change, adaptive=chunks.schedule.adaptive),
        max_iter=1 if partial else est.max_iter,
        reduce_step=chunks.reduce_step,
        verbose=est.verbose,
        name=solver,
    )
    if tol is not None and not run.converged:
        warn_not_converged(solver, est.max_iter)
    previous = [] if not partial else list(getattr(est, "_dask_curve", []))
    est._dask_curve = previous + run.curve
    est.loss_curve_ = list(est._dask_curve)
    est.n_iter_ = len(est.loss_curve_)
    est.best_loss_ = min(est.loss_curve_)
    return est


class _ChunkPass:
    """One epoch of the Dask stream: a ``partial_fit`` pass on each row chunk."""

    def __init__(self, est, X, y, sample_weight, loss, penalty, solver, stream):
        self.est, self.X, self.y, self.sample_weight = est, X, y, sample_weight
        self.loss, self.penalty, self.solver = loss, penalty, solver
        # (partial_fit's chunk passes are a stream's; fit's, the epochs of a fit.)
        self.stream = stream
        self.rng = check_random_state(est.random_state)
        self.schedule = _learning(est, loss, solver)[0]

    def epoch(self, start, epoch):
        """Pass over the chunks from ``start = (coef_init, intercept_init)``."""
        est, n_chunks = self.est, self.X.numblocks[0]
        order = self.rng.permutation(n_chunks) if est.shuffle else range(n_chunks)
        total = weight_sum = 0.0
        for b in order:
            Xb = np.asarray(self.X.blocks[b].compute())
            yb = np.asarray(self.y.blocks[b].compute())
            sb = None
            if self.sample_weight is not None:
                sb = np.asarray(self.sample_weight.blocks[b].compute())
            weight = float(sb.sum()) if sb is not None else float(len(yb))
            if weight == 0:
                continue
            fit_minibatch(
                est,
                Xb,
                yb,
                sb,
                get_backend(Xb),
                self.loss,
                self.penalty,
                self.solver,
                start,
                True,
                verbose=0,
                stream=self.stream,
            )
            start = (None, None)
            # (The chunk's loss: a continuing pass holds it aside, see _store_curves.)
            total += weight * est.__dict__.pop("_curve_tail", est.loss_curve_)[-1]
            weight_sum += weight
        eta = est._minibatch_state["states"][0].eta(self.schedule)
        return start, Epoch(total / weight_sum, eta)

    def reduce_step(self, start, divisor):
        """Divide the step of ``"adaptive"`` for the next chunk passes."""
        state = self.est._minibatch_state
        states = [s.reduced(divisor) for s in state["states"]]
        self.est._minibatch_state = dict(state, states=states)
        return start
