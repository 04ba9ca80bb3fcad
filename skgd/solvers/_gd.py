# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Full-batch solver: accelerated proximal gradient (FISTA) in a diagonal metric.

It needs no step-size tuning: the metric makes the problem scale-free, and the step
comes from backtracking on the exact curvature along each step. It knows nothing of
the kind of X (the objective's backend does) nor of the estimator.

The iteration itself is the kernel of :mod:`skgd.solvers._apg`. This module chooses
the route (working sets, the Gram form and its closed form, smoothing stages for a
non-smooth loss) and supplies the kernel's oracles in sample space: one for a
quadratic loss, whose gradient is affine, and one that fuses each iteration's
evaluations into one pass over X; both stop on the measures of :class:`_Measures`.
"""

import dataclasses
import math
import time

from skgd._contract import check_support
from skgd._gaps import (
    box_gap,
    box_gap_applies,
    fenchel_young_applies,
    numerical_gap_applies,
    numerical_gap_at,
    unpenalized_gap_applies,
    unpenalized_gap_at,
)
from skgd._planner import planned
from skgd.solvers._apg import APGState, Oracle, run
from skgd.solvers._newton import DECREMENT_SHARE, newton_decrement
from skgd.solvers._positive_decrement import positive_decrement
from skgd.solvers._result import SolverResult, check_finite_objective
from skgd.solvers._smoothed_newton import run_stages
from skgd.solvers._working_set import solve_working_set, working_set_mode

_DIVERGENCE_HINT = (
    "The data probably holds values so large that X @ w overflows; scale the features "
    "(e.g. with sklearn.preprocessing.StandardScaler) or use float64."
)


def solve_gd(objective, w0, c0, *, max_iter, tol, verbose=0, callback=None):
    r"""Minimise a :class:`~skgd._objective.LinearObjective` by accelerated descent.

    **Step size.** The iteration runs in the metric ``D = diag(d)``, ``d_j`` the
    weighted variance of column ``j`` (Jacobi preconditioning): there the Hessian of
    the squared loss has a unit diagonal, so the step is independent of each feature's
    scale. The step is ``1 / (L d_j)`` per coordinate. ``L`` starts at the loss
    curvature (a lower bound on the largest eigenvalue of the preconditioned Hessian,
    whose diagonal is one) and grows by backtracking until the quadratic upper bound
    holds along the step: ``curv * sum_i u_i (raw_new - raw_y)_i^2 <= L ||x_new -
    y||_D^2``. That test reads the exact curvature along the step from the predictions,
    so it is free of the cancellation of comparing objective values near the optimum,
    and costs no pass beyond the one that computes the predictions anyway. A loss
    whose curvature has no global bound (the deviances) weighs each sample by its
    bound along the step instead, ``sum_i u_i h_i (raw_new - raw_y)_i^2`` with
    ``h_i`` from ``loss.curvature_between``; ``L`` then has no ceiling.

    **Acceleration.** Nesterov/FISTA momentum with gradient-based adaptive restart
    (O'Donoghue and Candes, 2015): momentum is reset when it points against the last
    step, which recovers linear convergence on strongly convex problems without knowing
    their condition number.

    **Cost.** For a quadratic loss the gradient is affine in the iterate, so the
    gradient at the extrapolated point is a combination of gradients already computed:
    one pass ``X @ w`` and one pass ``X.T @ g`` per iteration, plus one ``X @ w`` per
    backtracking step (rare after the first iterations). For the other losses each
    iteration makes one pass that returns everything it needs: the step test, the
    objective at the new iterate, the gradient at the next extrapolated point (the
    restart decision and momentum depend on coefficients only, so that point is
    known before the pass) and the terms of the duality gap; on Dask that is one
    ``compute`` per iteration, plus one per backtracking step.

    **Stopping.** ``tol`` bounds, relative to the objective at zero coefficients
    (with the starting intercept), a certified optimality measure:

    - where the loss has a cheap conjugate (all the regression and classification
      losses but Tweedie's) and the penalty has a strength (L1, L2, elastic
      net with ``alpha > 0``), the duality gap, an upper bound on the
      suboptimality. The dual point is built from the gradient, so the gap
      costs no pass over the data (for the classification losses the
      intercept needs it balanced over the classes: the pass also returns
      ``X.T`` of the positive class's part for the binary losses, and the
      multinomial one mixes in the one-hot rows, whose ``X_c.T`` is computed
      once per fit). For the squared loss it is
      the gradient at the new iterate. For the others the dual point's scaling
      into the dual domain needs reductions over the same pass that gives the
      gradient, so the gap of an iterate pairs its objective value with the dual
      point of the extrapolated point its step was taken from (built and scaled one
      pass earlier): a feasible dual point certifies any primal point, so the bound
      is as certified, and the iteration stays at one pass; it typically lags the
      gap of the iterate's own gradient by one iteration;
    - otherwise (no penalty, or features of penalty weight 0: the dual is
      feasible only at the optimum), the squared norm of the proximal gradient
      mapping over twice the curvature constant, ``L/2 ||x - prox(x - grad / (L
      d))||_D^2``: the decrease one more step would guarantee. It bounds nothing,
      so the run is then certified (see :func:`_certify_by_decrement`): with
      features of penalty weight 0 by the gap of the dual point projected onto
      their constraints (:func:`~skgd._gaps.unpenalized_gap`), for the
      Tweedie loss with a penalty by the gap of its numerical conjugate
      (:func:`~skgd._gaps.numerical_gap_at`; the projected one with features
      of penalty weight 0), without a penalty
      by the Newton decrement (with ``w >= 0``, the Lagrangian's of
      :func:`~skgd.solvers._positive_decrement.positive_decrement`) or, for
      huber and modified huber, the box gap (:func:`~skgd._gaps.box_gap`); the
      iterations go on until it meets tol.

    **Non-smooth losses** (``epsilon_insensitive``) are replaced by their Moreau
    envelope of width ``mu`` (a Huber-like smoothing within ``mu / 2`` of the loss),
    for a decreasing sequence of ``mu``, each stage warm-started from the previous
    one. The stopping test is the duality gap of the true, non-smooth problem,
    evaluated at the smoothed iterates (without a penalty: ``mu`` goes down to
    ``2 tol`` times the reference and the last stage stops on its own measure).

    Parameters
    ----------
    objective : LinearObjective
        The problem.
    w0 : array of shape (n_features,)
        Starting coefficients.
    c0 : float
        Starting offset of the centered model (ignored unless the intercept is free).
    max_iter : int
        Maximum number of iterations (each is one pass over the data).
    tol : float
        Stopping tolerance, as above.
    verbose : int, default=0
        Print one line per iteration when positive.
    callback : callable or None, default=None
        Called as ``callback(iteration, w, objective_value)`` after each iteration.

    **Working sets.** When the penalty has an L1 part and the loss is smooth, on
    numpy or scipy.sparse data with many features (or with the squared loss in its
    Gram form), the problem is solved on growing sets of columns and the duality gap
    of the full problem is checked after each (see
    :func:`skgd.solvers._working_set.solve_working_set`): the same stopping measure,
    with work proportional to the support rather than to the number of features.

    Returns
    -------
    result : SolverResult
        The solution; ``extra["measure"]`` holds the final stopping measure relative
        to the objective at zero and ``extra["offset"]`` the centered offset ``c``.

    References
    ----------
    Y. Nesterov, "Smooth minimization of non-smooth functions", Math. Program., 2005.
    (FISTA and its adaptive restart: see :mod:`skgd.solvers._apg`.)
    """
    check_support(objective.loss, objective.penalty, "gd")
    mode = working_set_mode(objective)
    if mode is not None:
        return solve_working_set(
            objective,
            w0,
            c0,
            mode=mode,
            max_iter=max_iter,
            tol=tol,
            solve_direct=_solve_direct,
            verbose=verbose,
            callback=callback,
        )
    return _solve_direct(
        objective,
        w0,
        c0,
        max_iter=max_iter,
        tol=tol,
        verbose=verbose,
        callback=callback,
    )


_UNCERTIFIED = (
    "a non-smooth loss without a penalty has no duality gap, so nothing bounds the "
    "distance of the result to the optimum (its smooth approximation was solved, "
    "not the loss itself). Add a small penalty (e.g. penalty='l2', alpha=1e-6) "
    "for a result certified within tol"
)
# (With a penalty, but features of penalty weight 0: no projected dual point
# is built for a non-smooth loss; the interior points certify it on numpy.)
_UNCERTIFIED_FREE = (
    "a non-smooth loss with features of penalty weight 0 has no duality gap here "
    "(the dual point is not projected onto those features' constraints), so "
    "nothing bounds the distance of the result to the optimum (its smooth "
    "approximation was solved, not the loss itself). Use a small positive "
    "weight for those features, or numpy or scipy.sparse data (where interior "
    "points fit it), for a result certified within tol"
)


def _solve_direct(objective, w0, c0, *, max_iter, tol, verbose=0, callback=None):
    """Run :func:`solve_gd` on all the features at once (no working set)."""
    sample, objective = objective, planned(objective)
    loss = objective.loss
    ref = objective.reference_value()
    threshold = tol * ref
    # What every route below runs with.
    run_kw = {"max_iter": max_iter, "threshold": threshold, "ref": ref}
    run_kw.update(verbose=verbose, callback=callback)
    if loss.is_smooth:
        # (With an infinite reference, e.g. squares of y overflowing, every point
        # meets tol: the iterations return their start at once, as before.)
        w_direct = objective.closed_form() if math.isfinite(ref) else None
        if w_direct is not None:
            return _from_closed_form(objective, w_direct, c0, **run_kw)
        res = _fista(objective, w0, c0, **run_kw)
        gap_free = unpenalized_gap_applies(sample) or numerical_gap_applies(sample)
        if objective.has_duality_gap or not (
            _penalty_free(objective.penalty) or gap_free
        ):
            # (A penalty with a strength but no gap, e.g. a loss without a
            # conjugate, stops on the proximal-gradient measure, as documented
            # for extensions; with features of penalty weight 0 it warns.)
            if not (objective.has_duality_gap and fenchel_young_applies(sample)):
                return res if objective.has_duality_gap else _unbounded(objective, res)
        return _certify_by_decrement(objective, res, sample=sample, **run_kw)

    return _smoothing_stages(objective, w0, c0, tol=tol, **run_kw)


def _penalty_free(penalty):
    """Return whether ``penalty`` has no strength at all (``penalty=None``)."""
    shape = penalty.elastic_net_shape() if penalty.is_separable else None
    return shape is not None and not shape[0] and not shape[1]


def _unbounded(objective, res):
    """Return ``res`` not converged where features of penalty weight 0 lack a gap.

    No dual point is built for them (:func:`~skgd._gaps.unpenalized_gap_applies`
    does not hold), so the proximal-gradient measure that stopped the run is
    all there is, and it bounds nothing.
    """
    free = getattr(objective.penalty, "unpenalized_features", tuple)()
    if not (free and res.converged):
        return res
    why = _uncertified_smooth(None, "projected duality gap")
    extra = {**res.extra, "uncertified": why}
    return dataclasses.replace(res, converged=False, extra=extra)


def _uncertified_smooth(measure, name="Newton decrement"):
    """Return why a smooth fit without a gap is not certified, in words."""
    if name == "projected duality gap" and measure is None:
        return (
            "on features of penalty weight 0 the proximal-gradient measure "
            "that stops the run does not bound the distance to the optimum, and "
            "no duality gap that would is formed for this loss and penalty. Use "
            "a small positive weight for those features for a result certified "
            "within tol"
        )
    if name == "numerical duality gap":
        return (
            "the proximal-gradient measure that stops the run does not bound "
            "the distance to the optimum, and the duality gap of the loss's "
            f"numerical conjugate that does ({measure:.2e} relative) did not "
            "meet tol within max_iter. Use a larger max_iter for a result "
            "certified within tol"
        )
    if name == "summed duality gap":
        return (
            "the duality gap of the iterations, a difference of two sums "
            "rounded in the data's precision, met tol, but the gap summed from "
            f"non-negative terms, which bounds the distance to the optimum "
            f"({measure:.2e} relative), did not within max_iter. Use a larger "
            "max_iter, or float64 data, for a result certified within tol"
        )
    if name == "projected duality gap":
        # (Features of penalty weight 0: a penalty is there, the gap too.)
        return (
            "on features of penalty weight 0 the proximal-gradient measure "
            "that stops the run does not bound the distance to the optimum, and "
            f"the duality gap that does ({measure:.2e} relative) did not meet "
            "tol within max_iter. Use a larger max_iter, or a small positive "
            "weight for those features, for a result certified within tol"
        )
    why = (
        "no Newton decrement, which would, is formed for this problem (it needs "
        "a loss of one output with a Hessian, 1,024 features at most and a "
        "backend that builds a weighted Gram matrix)"
        if measure is None
        else f"the {name} that would ({measure:.2e} relative) did not "
        "meet tol within max_iter"
    )
    return (
        "without a penalty the proximal-gradient measure that stops the run does "
        f"not bound the distance to the optimum, and {why}. Use solver='newton', "
        "a larger max_iter, or add a small penalty (e.g. penalty='l2', "
        "alpha=1e-6) for a result certified within tol"
    )


def _certificate(objective, sample, w, c, threshold):
    """Return ``(measure, limit, name)``: what certifies ``(w, c)`` where it is within.

    With features of penalty weight 0, the gap of
    :func:`~skgd._gaps.unpenalized_gap` (of the sample form ``sample``) within
    ``threshold``; for a loss with a numerical conjugate and a penalty, the
    gap of :func:`~skgd._gaps.numerical_gap_at`, within ``threshold``, and
    so for the losses of :func:`~skgd._gaps.fenchel_young_applies` with a
    duality gap (float32 Poisson and Gamma). Without a penalty, half the
    squared Newton decrement (with the
    constraint ``w >= 0``, the Lagrangian's: :func:`positive_decrement`),
    within ``DECREMENT_SHARE * threshold``; where that does not certify and the loss
    has a quadratic dual box, the gap of :func:`~skgd._gaps.box_gap` within
    ``threshold``, if it is the nearer of the two. ``measure`` is None where
    none can be formed.
    """
    if unpenalized_gap_applies(sample):
        # (The Gram form's gap, where it is the form solved, needs no pass.)
        form = objective if unpenalized_gap_applies(objective) else sample
        gap = unpenalized_gap_at(form, w, c)
        return gap, threshold, "projected duality gap"
    if numerical_gap_applies(sample):
        return numerical_gap_at(sample, w, c), threshold, "numerical duality gap"
    if objective.has_duality_gap and fenchel_young_applies(sample):
        # (The iterations' gap is a difference of sums rounded in the data's
        # precision; numerical_gap_at sums non-negative terms.)
        return numerical_gap_at(sample, w, c), threshold, "summed duality gap"
    decrement = newton_decrement(objective, w, c)
    if decrement is None:
        # (With w >= 0: the Lagrangian's, on the sample form, whose Hessian the
        # Gram form of the squared loss does not build.)
        decrement = positive_decrement(sample, w, c)
    limit = DECREMENT_SHARE * threshold
    if (decrement is None or not decrement <= limit) and box_gap_applies(objective):
        gap = box_gap(objective, w, c)
        if decrement is None or gap * limit <= decrement * threshold:
            return gap, threshold, "duality gap"
    return decrement, limit, "Newton decrement"


def _certify_by_decrement(
    objective, res, *, sample, max_iter, threshold, ref, verbose, callback
):
    """Certify a run that stopped on the proximal-gradient measure, or say why not.

    Without a duality gap the iterations stop on ``L/2 ||grad mapping||^2``, a
    lower bound on the suboptimality: on correlated or badly scaled data it meets
    tol 10% above the optimum. With features of penalty weight 0 the fit is
    reported converged only where the gap of :func:`~skgd._gaps.unpenalized_gap`
    is within the threshold (the Tweedie loss's with all weights positive:
    that of :func:`~skgd._gaps.numerical_gap_at`); without a penalty, where half the
    squared Newton decrement with the exact Hessian
    (:func:`~skgd.solvers._newton.newton_decrement`) is within half the threshold:
    the decrement bounds the suboptimality (exactly where the loss is quadratic
    between the point and the optimum, within a factor 2 for a self-concordant
    one, whose bound ``lambda**2`` this share meets; with ``w >= 0`` that of
    the Lagrangian of the active constraints, which bounds the suboptimality
    alike: :func:`~skgd.solvers._positive_decrement.positive_decrement`); or,
    for the float32 Poisson and Gamma fits of
    :func:`~skgd._gaps.fenchel_young_applies`, whose iterations' gap is a
    difference of sums rounded in float32, where the gap summed from
    non-negative terms (:func:`~skgd._gaps.numerical_gap_at`) is within the
    threshold; for huber and modified
    huber, whose Hessian is singular where residuals sit on the linear pieces,
    where the gap of :func:`~skgd._gaps.box_gap` is within the threshold (see
    :func:`_certificate`). Where neither is, the iterations go on from where they
    stand at a proximal-gradient threshold cut by the ratio of the measure to
    its limit, until it certifies or ``max_iter`` ends the run; where none can be
    formed the result is not reported converged, and ``extra["uncertified"]``
    says why.
    """
    total, curve = res.n_iter, list(res.objective_curve)
    stop, measure, certified = threshold, None, False
    kw = {"ref": ref, "verbose": verbose, "callback": callback}
    while res.converged:
        c = res.extra["offset"]
        if sample is not objective and sample.intercept_mode != "free":
            c = sample.initial_offset()  # (the Gram form's offset is its own)
        measure, limit, name = _certificate(objective, sample, res.coef, c, threshold)
        certified = measure is not None and measure <= limit
        if certified or measure is None or total >= max_iter:
            break
        stop *= min(0.5, max(1e-6, limit / measure))
        left = {"max_iter": max_iter - total, "first_iter": total}
        res = _fista(
            objective, res.coef, res.extra["offset"], threshold=stop, **left, **kw
        )
        total += res.n_iter
        curve += res.objective_curve
    extra = dict(res.extra)
    if measure is not None:
        extra["measure"] = measure / ref
    if not certified and (res.converged or measure is not None):
        # (A run that max_iter ended before any check warns as such.)
        known = None if measure is None else measure / ref
        extra["uncertified"] = _uncertified_smooth(known, name)
    converged = res.converged and certified
    return dataclasses.replace(
        res, n_iter=total, objective_curve=curve, converged=converged, extra=extra
    )


def _smoothing_stages(
    objective, w0, c0, *, max_iter, tol, threshold, ref, verbose, callback
):
    """Minimise a non-smooth ``objective`` through smoothings of decreasing width.

    Each stage replaces the loss by ``loss.smoothed(mu)`` and is warm-started from
    the previous one; a stage need not be solved below the error of its smoothing
    (``0.1 mu``). With a duality gap the run ends when the gap of the true problem
    meets ``threshold``; without one (no penalty), at the stage of the floor width
    ``2 tol ref``, and the result is not reported converged: nothing bounds its
    distance to the optimum of the true problem (measured: 7-57% above it on
    small problems at the default tol). ``extra["uncertified"]`` then says why, for
    the estimator's ConvergenceWarning. With a gap, a stage whose smoothing already
    errs by less than tol is solved on to half the threshold rather than narrowed,
    and a narrowing set by that error alone (see :func:`_narrowing`) is solved so
    at once.
    """
    certified = objective.has_duality_gap
    # (Never below 1e-12 ref: with tol=None, a zero width would divide by zero.)
    mu_floor = max(2.0 * tol * ref if not certified else 0.0, 1e-12 * ref)
    shared = {"threshold": threshold, "ref": ref, "verbose": verbose}

    def solve_stage(stage, w, c, stage_tol, *, mu, max_iter, first_iter):
        return _fista(
            stage,
            w,
            c,
            report=objective,
            max_iter=max_iter,
            stage_threshold=stage_tol,
            callback=callback,
            first_iter=first_iter,
            **shared,
        )

    def next_stage(res, mu, stage_tol):
        if finished(res, mu) or mu <= mu_floor:
            return None  # (at the floor no narrower stage can follow)
        if certified and stage_tol >= threshold and _fine_enough(res.extra, tol):
            # The smoothing's own error is within tol: solve this stage to tol.
            return mu, 0.5 * threshold
        factor = _narrowing(res.extra, tol, certified)
        mu = max(mu * factor, mu_floor)
        # A stage narrowed for its bias alone is solved to tol at once.
        return mu, 0.5 * threshold if factor > 0.1 else max(threshold, 0.1 * mu)

    def finished(res, mu):
        return res.converged if certified else mu <= mu_floor and res.extra["stage"]

    # A stage ends when its own measure meets stage_tol: the smoothing's error
    # (0.1 mu) far from the end, half of the threshold near it.
    first = (ref, max(threshold, 0.1 * ref))
    res, total, curve, mu = run_stages(
        objective,
        w0,
        c0,
        max_iter=max_iter,
        first=first,
        solve_stage=solve_stage,
        next_stage=next_stage,
    )
    penalty = objective.penalty
    strength = getattr(penalty, "l1", 0.0) or getattr(penalty, "l2", 0.0)
    free = strength and getattr(penalty, "unpenalized_features", tuple)()
    why = _UNCERTIFIED_FREE if free else _UNCERTIFIED
    extra = {} if certified else {"uncertified": why}
    return _result(
        objective,
        res.coef,
        res.extra["offset"],
        n_iter=total,
        converged=bool(finished(res, mu)) and certified,
        curve=curve,
        measure=res.extra["measure"],
        **extra,
    )


def _fine_enough(extra, tol):
    """Whether a stage's smoothing error is within tol (relative measures).

    The problem's gap exceeds the stage's by about the smoothing's bias, which for a
    kink met by few residuals is far below its bound ``mu / 2`` (it shrinks like
    ``mu**2`` when the residuals have a density at the kink): when that excess is
    below half of tol, solving the same stage further meets tol without a narrower,
    costlier one.
    """
    return extra["measure"] - extra["stage_measure"] <= 0.5 * tol


def _narrowing(extra, tol, certified):
    """Return the factor by which the next smoothing stage narrows ``mu``.

    The smoothing's bias, the excess of the problem's gap over the stage's (see
    :func:`_fine_enough`), is at most proportional to ``mu``: a bias just above
    tol needs a narrower stage, not a 10x narrower one (whose iterations grow like
    ``1 / mu``).
    """
    bias = extra["measure"] - extra["stage_measure"]
    if certified and bias > 0:
        return min(max(0.1, 0.25 * tol / bias), 0.5)
    return 0.1


def _from_closed_form(objective, w, c0, *, max_iter, threshold, ref, verbose, callback):
    """Finish a fit from a closed-form solution ``w`` (one iteration).

    The solution counts as the first iteration (one linear solve: of the Gram
    matrix, or of X itself in the sample form) and is certified like any iterate:
    :func:`_fista` starts from it and returns at once when its stopping measure is
    below ``threshold``, else iterates from there. The objective reported for it is
    at the offset the iterations use (the closed-form one, whatever ``c0``).
    """
    start_time = time.perf_counter()
    if objective.intercept_mode != "free":
        c0 = objective.initial_offset()
    value = objective.value(w, objective.raw(w, c0))
    _check_finite(value, L=1.0, iteration=1)
    if verbose:
        print(
            f"[gd] iter    1  objective {value:.8e}  closed form (linear solve)  "
            f"{time.perf_counter() - start_time:.2f}s"
        )
    if callback is not None:
        callback(1, w, value)
    res = _fista(
        objective,
        w,
        c0,
        max_iter=max_iter - 1,
        threshold=threshold,
        ref=ref,
        verbose=verbose,
        callback=callback,
        first_iter=1,
    )
    return dataclasses.replace(
        res, n_iter=res.n_iter + 1, objective_curve=[value, *res.objective_curve]
    )


def _check_finite(value, *, L, iteration):
    """Raise the divergence error if ``value`` is not finite (step ``1 / L``)."""
    check_finite_objective(
        value,
        step_name="step size",
        step=1.0 / L,
        iteration=iteration,
        hint=_DIVERGENCE_HINT,
    )


def _result(objective, w, c, *, n_iter, converged, curve, measure, **extra):
    """Return the :class:`SolverResult` of a run ending at ``(w, c)``."""
    extra = {"measure": measure, "offset": c, **extra}
    return SolverResult(w, objective.intercept(w, c), n_iter, converged, curve, extra)


def _fista(
    objective,
    w0,
    c0,
    *,
    max_iter,
    threshold,
    ref,
    report=None,
    stage_threshold=None,
    first_iter=0,
    verbose=0,
    callback=None,
):
    """Run FISTA with backtracking and restart on a smooth objective (see solve_gd).

    ``report`` is the problem being solved: ``objective`` itself (the default), or
    the non-smooth objective of which ``objective`` is a smoothing. The run stops,
    converged, when the measure of ``report`` is below ``threshold``, and ends its
    stage when the measure of ``objective`` is below ``stage_threshold`` (default
    ``threshold``; ``extra["stage"]``). The iteration is the kernel of
    :mod:`skgd.solvers._apg`; a quadratic loss evaluates it with an affine gradient
    (:class:`_AffineOracle`), the others with one fused pass
    (:class:`_FusedOracle`).
    """
    measures = _Measures(
        objective,
        objective if report is None else report,
        threshold=threshold,
        stage_threshold=threshold if stage_threshold is None else stage_threshold,
    )
    kind = _AffineOracle if objective.loss.is_quadratic else _FusedOracle
    oracle = kind(
        objective,
        measures,
        first_iter=first_iter,
        ref=ref,
        verbose=verbose,
        callback=callback,
    )
    state = oracle.start(w0, c0)
    if not state.done:
        run(oracle, state, first=1, last=max_iter)
    converged, stage_done = measures.verdict(state.measure)
    return _result(
        objective,
        state.x.w,
        state.x.c,
        n_iter=state.n_iter,
        converged=converged,
        curve=state.curve,
        measure=state.measure[1] / ref,
        stage=stage_done,
        stage_measure=state.measure[0] / ref,
    )


# Dual points (their reductions and dual values) are made once the free
# proximal-gradient measure, a lower bound on the gap, is within this factor of the
# threshold: a converging gap follows it from above, usually by well under this.
_NEAR = 100.0


class _Measures:
    """The stopping measures of a sample-space run: ``(stage, problem)`` pairs.

    The stage is the objective being iterated on; the problem is ``report``, the
    same objective or the non-smooth one it smooths. Each measure is a duality gap
    where the objective has one, else the proximal-gradient measure
    ``L/2 ||w - prox(w - grad / (L d))||_D^2`` (no pass over X).
    """

    def __init__(self, objective, report, *, threshold, stage_threshold):
        self.objective, self.report = objective, report
        self.threshold, self.stage_threshold = threshold, stage_threshold
        self.d = objective.metric()
        self.smoothing = report is not objective
        self.use_gap = objective.has_duality_gap
        self.report_gap = report.has_duality_gap
        # The objectives whose gaps are measured, and the losses whose means a
        # fused pass returns at each new iterate (the problem's first: it gives
        # the objective).
        self.gap_objectives = [objective] if self.use_gap else []
        if self.smoothing and self.report_gap:
            self.gap_objectives.append(report)
        self.losses = (
            (report.loss, objective.loss)
            if self.smoothing and self.use_gap
            else (report.loss,)
        )

    def verdict(self, measure):
        """Return ``(converged, stage_done)`` for a ``(stage, problem)`` measure."""
        converged = measure[1] <= self.threshold
        return converged, converged or measure[0] <= self.stage_threshold

    def dot_c(self, a, b):
        """Inner product of offsets: floats, or ``(K,)`` arrays for K outputs."""
        if self.objective.n_outputs == 1:
            return a * b
        return self.objective.backend.to_float(self.objective.coef_xp.sum(a * b))

    def norm2_d(self, dw, dc):
        """Squared length of a step in the metric (``c`` has unit metric)."""
        cxp, to_float = self.objective.coef_xp, self.objective.backend.to_float
        return to_float(cxp.sum(self.d * dw * dw)) + self.dot_c(dc, dc)

    def prox_measure(self, w, gw, gc, L):
        """Return ``L/2 ||w - prox(w - grad / (L d))||_D^2`` (no pass over X)."""
        step = 1.0 / (L * self.d)
        dw = w - self.objective.penalty.prox(w - step * gw, step)
        return 0.5 * L * self.norm2_d(dw, gc / L)

    def at(self, w, raw, g_raw, gw, gc, L):
        """Return the measures at a point with gradient (``g_raw`` in raw)."""
        objective = self.objective
        if self.use_gap:
            quadratic = objective.loss.is_quadratic
            stage = objective.duality_gap(w, raw, gw, None if quadratic else g_raw)
        else:
            stage = self.prox_measure(w, gw, gc, L)
        if not self.smoothing:
            return stage, stage
        if self.report_gap:
            return stage, self.report.duality_gap(w, raw, gw, g_raw)
        return stage, math.inf

    def near(self, cheap):
        """Whether a free lower bound on the stage's gap is near its threshold."""
        return cheap <= _NEAR * self.stage_threshold

    def dual_points(self, terms):
        """Return the dual points made at a pass's gradient, with their ``X_c.T``."""
        shift, v = self.objective.dual_point(terms)
        pairs = [(o.loss, o.dual_scale(v, terms)) for o in self.gap_objectives]
        return (shift, pairs), v

    def from_pass(self, w, terms, dual, point, L):
        """Return the measures at ``w`` from its pass ``terms``.

        A gap pairs the objective at ``w`` with the dual point ``dual`` built at an
        earlier point (the extrapolated point the step to ``w`` was taken from):
        any feasible dual point bounds the suboptimality of any primal point.
        Without a gap the measure is the proximal-gradient one at ``point = (v,
        grad_w, grad_c)``, where the pass took the gradient; the caller checks it
        at ``w`` itself before stopping. Without a dual point (none is made while
        the free lower bound is far from the thresholds) nothing is certified: the
        lower bound stands for the stage measure, but may not end the stage.
        """
        if self.gap_objectives and dual is None:
            cheap = self.prox_measure(*point, L)
            if self.use_gap:
                cheap = cheap if cheap > self.stage_threshold else math.inf
            return cheap, (cheap if not self.smoothing else math.inf)
        gaps = iter(())
        if self.gap_objectives:
            (_, pairs), v = dual
            pen = self.report.penalty_value(w)
            # The problem's value comes first, the stage's (when smoothing) last.
            primal = [terms["values"][-1] + pen] if self.use_gap else []
            if self.smoothing and self.report_gap:
                primal.append(terms["values"][0] + pen)
            gaps = iter(
                o.gap(value, dv, k, v)
                for o, value, dv, (_, k) in zip(
                    self.gap_objectives, primal, terms["duals"], pairs, strict=True
                )
            )
        stage = next(gaps) if self.use_gap else self.prox_measure(*point, L)
        if not self.smoothing:
            return stage, stage
        return stage, next(gaps, math.inf)


@dataclasses.dataclass
class _Point:
    """A point of the sample-space iteration, with the gradient kept there."""

    w: object
    c: object
    raw: object
    gw: object = None
    gc: object = None


@dataclasses.dataclass
class _Step:
    """A trial step to ``(w, c)`` with predictions ``raw``, from the momentum point.

    A fused pass adds the predictions at the next momentum point and its terms.
    """

    w: object
    c: object
    raw: object
    dw: object
    dc: object
    raw_next: object = None
    terms: dict = None


class _SampleOracle(Oracle):
    """The oracle of the sample-space iteration: what both of its forms share.

    Steps are proximal-gradient steps in the metric ``d`` on ``w`` and plain
    gradient steps on a free offset ``c``; the restart test, the divergence check
    and the report are the same whatever evaluates the objective.
    """

    def __init__(self, objective, measures, *, first_iter, ref, verbose, callback):
        self.objective, self.measures = objective, measures
        self.first_iter, self.ref = first_iter, ref
        self.verbose, self.callback = verbose, callback
        self.free_c = objective.intercept_mode == "free"
        # A loss without a curvature bound (the deviances) has the step test
        # weighed by its curvature along each step (see pass_block), factor 1,
        # and L has no ceiling.
        bound = objective.loss.curvature_bound
        self.curv = 1.0 if bound is None else float(bound)
        self.bounded = bound is not None
        self.start_time = time.perf_counter()

    def start(self, w, c0):
        """Return the initial state at ``w`` (``done`` if it meets the thresholds)."""
        objective, curv = self.objective, self.curv
        c = c0 if self.free_c else objective.initial_offset()
        raw = objective.raw(w, c)
        # Lower bound on the curvature constant (its diagonal): backtracking grows
        # it ...
        L = curv * max(objective.curvature_floor(), 1.0 if self.free_c else 0.0)
        if not L > 0:
            L = curv
        # ... and the trace bounds it from above (c adds a unit diagonal entry).
        n_c = float(objective.n_outputs) if self.free_c else 0.0
        L_max = curv * max(objective.curvature_ceiling() + n_c, 1.0)
        L_max = L_max if self.bounded else math.inf
        x, measure = self.first_point(w, c, raw, L)
        state = APGState(x=x, y=x, L=L, L_max=L_max, measure=measure)
        state.done = self.measures.verdict(measure)[1]
        return state

    def prox_step(self, state):
        x, y, L = state.x, state.y, state.L
        step = 1.0 / (L * self.measures.d)
        w_new = self.objective.penalty.prox(y.w - step * y.gw, step)
        c_new = y.c - y.gc / L if self.free_c else x.c
        raw_new = self.objective.raw(w_new, c_new)
        return _Step(w_new, c_new, raw_new, dw=w_new - y.w, dc=c_new - y.c)

    def restarts(self, state, cand):
        x, y, m = state.x, state.y, self.measures
        cxp, to_float = self.objective.coef_xp, self.objective.backend.to_float
        along = to_float(cxp.sum(m.d * (y.w - cand.w) * (cand.w - x.w)))
        return along + m.dot_c(y.c - cand.c, cand.c - x.c) > 0

    def step_test(self, sq_norm, rounding, cand):
        """Return the kernel's step test from a step's raw size and rounding level.

        The rounding allowance: the predictions carry errors of a few ulps, which
        dominate their change once steps get short (in float32 especially); they
        must not be read as curvature.
        """
        sq_step = self.measures.norm2_d(cand.dw, cand.dc)
        return self.curv * sq_norm, sq_step, self.curv * rounding

    def check_curvature(self, lhs, state, n_iter):
        if not math.isfinite(lhs):
            _check_finite(lhs, L=state.L, iteration=self.first_iter + n_iter)

    def accept(self, state, cand, beta, n_iter):
        value = self.value(cand)
        _check_finite(value, L=state.L, iteration=self.first_iter + n_iter)
        x = state.x
        y_w = cand.w + beta * (cand.w - x.w)
        y_c = cand.c + beta * (cand.c - x.c)
        state.x, state.y, state.measure = self.advance(state, cand, beta, y_w, y_c)
        state.done = self.measures.verdict(state.measure)[1]
        return value

    def measure_name(self):
        """Name the reported measure: a gap once a dual point backs it, else a bound."""
        if self.measures.report_gap and getattr(self, "certified", True):
            return "relative duality gap"
        return "proximal-gradient measure"

    def report(self, n_iter, state, value):
        it = self.first_iter + n_iter
        if self.verbose:
            ref, threshold = self.ref, self.measures.threshold
            print(
                f"[gd] iter {it:4d}  objective {value:.8e}  "
                f"step 1/L={1.0 / state.L:.3e}  {self.measure_name()} "
                f"{state.measure[1] / ref:.3e} (tol {threshold / ref:.1e})  "
                f"{time.perf_counter() - self.start_time:.2f}s"
            )
        if self.callback is not None:
            self.callback(it, state.x.w, value)


class _AffineOracle(_SampleOracle):
    """A quadratic loss: the gradient is affine in the iterate.

    So the gradient at the extrapolated point is a combination of gradients already
    computed: one pass ``X @ w`` and one pass ``X.T @ g`` per iteration, plus one
    ``X @ w`` per backtracking step.
    """

    def first_point(self, w, c, raw, L):
        """Return the starting point, with its gradient, and its measures."""
        g_raw, gw, gc = self.objective.gradient(raw)
        return _Point(w, c, raw, gw, gc), self.measures.at(w, raw, g_raw, gw, gc, L)

    def curvature(self, state, cand, beta):
        raw_y = state.y.raw
        sq_norm, rounding = self.objective.step_terms(
            cand.raw - raw_y, cand.dw, cand.raw, raw_y
        )
        return self.step_test(sq_norm, rounding, cand)

    def value(self, cand):
        """Return the problem's objective at the step's end."""
        return self.measures.report.value(cand.w, cand.raw)

    def advance(self, state, cand, beta, y_w, y_c):
        """Return the new iterate, momentum point and measures."""
        x = state.x
        # The squared loss's measures use no per-sample gradient: none is kept
        # (on sparse X, sample-sized vectors make the peak memory).
        gw, gc = self.objective.gradient(cand.raw)[1:]
        # (Measured before the new momentum point's predictions are made: the old
        # ones are held until this returns.)
        measure = self.measures.at(cand.w, cand.raw, None, gw, gc, state.L)
        raw_y = cand.raw + beta * (cand.raw - x.raw)
        # The gradient is affine in the iterate: extrapolate it too (no new pass).
        gy_w = gw + beta * (gw - x.gw)
        gy_c = gc + beta * (gc - x.gc)
        new = _Point(cand.w, cand.c, cand.raw, gw, gc)
        return new, _Point(y_w, y_c, raw_y, gy_w, gy_c), measure


class _FusedOracle(_SampleOracle):
    """A loss whose gradient is not affine: one fused pass per trial step.

    Each pass (:meth:`LinearObjective.pass_terms`, one ``compute`` on Dask) returns
    everything the iteration needs: the step test, the objective at the new
    iterate, the gradient at the next momentum point (known before the pass: the
    restart decision and the momentum need coefficients only) and the dual values
    of the measures. The dual point a pass makes is evaluated by the next one: the
    oracle keeps it (``dual``) and whether the next pass makes one (``want_dual``).
    """

    def first_point(self, w, c, raw, L):
        """Return the starting point and its measures (one pass, two near the end)."""
        objective, m = self.objective, self.measures
        # Sample-sized vectors are persisted when made (a no-op in memory), so that
        # a lazy backend evaluates each once, not in every pass that reads it.
        (raw,) = objective.backend.persist(raw)
        losses = m.losses if m.gap_objectives else ()
        terms = objective.pass_terms(raw, None, raw, losses=losses)
        gw, gc = terms["grad"]
        self.dual = None
        if m.gap_objectives and m.near(m.prox_measure(w, gw, gc, L)):
            # The start needs a second pass: its dual point scales by the first.
            self.dual = m.dual_points(terms)
            terms.update(objective.pass_terms(None, raw, None, duals=self.dual[0]))
        self.certified = self.dual is not None
        measure = m.from_pass(w, terms, self.dual, (w, gw, gc), L)
        self.want_dual = self.dual is not None
        return _Point(w, c, raw, gw, gc), measure

    def curvature(self, state, cand, beta):
        backend = self.objective.backend
        cand.raw, cand.raw_next = backend.persist(
            cand.raw, cand.raw + beta * (cand.raw - state.x.raw)
        )
        cand.terms = self.objective.pass_terms(
            cand.raw,
            state.y.raw,
            cand.raw_next,
            losses=self.measures.losses,
            duals=None if self.dual is None else self.dual[0],
            dual_terms=self.want_dual,
        )
        return self.step_test(*cand.terms["step"], cand)

    def value(self, cand):
        """Return the problem's objective at the step's end (from the pass)."""
        return cand.terms["values"][0] + self.measures.report.penalty_value(cand.w)

    def advance(self, state, cand, beta, y_w, y_c):
        """Return the new iterate, momentum point and measures."""
        m, L = self.measures, state.L
        gy_w, gy_c = cand.terms["grad"]
        point = (y_w, gy_w, gy_c)
        self.certified = self.dual is not None
        measure = m.from_pass(cand.w, cand.terms, self.dual, point, L)
        self.dual = m.dual_points(cand.terms) if self.want_dual else None
        # The next pass makes a dual point (its parts, one more column of the
        # product for the binary classification losses, and the dual values one
        # pass later) only once the free lower bound says the end is near.
        self.want_dual = bool(m.gap_objectives) and m.near(m.prox_measure(*point, L))
        if not m.use_gap and m.verdict(measure)[1]:
            # The proximal-gradient measure at the extrapolated point says "done":
            # check the new iterate itself (one more pass, only then).
            g_raw, gw, gc = self.objective.gradient(cand.raw)
            measure = m.at(cand.w, cand.raw, g_raw, gw, gc, L)
        new = _Point(cand.w, cand.c, cand.raw)
        return new, _Point(y_w, y_c, cand.raw_next, gy_w, gy_c), measure
