# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Full-batch solver: accelerated proximal gradient (FISTA) in a diagonal metric.

It needs no step-size tuning: the metric makes the problem scale-free, and the step
comes from backtracking on the exact curvature along each step. It knows nothing of
the kind of X (the objective's backend does) nor of the estimator.
"""

import dataclasses
import math
import time

from skgd._planner import planned
from skgd.solvers._result import SolverResult, check_finite_objective
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
    and costs no pass beyond the one that computes the predictions anyway.

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
      losses) and the penalty has a strength (L1, L2, elastic net with ``alpha >
      0``), the duality gap, an upper bound on the suboptimality. The dual point is
      built from the gradient, so the gap costs no pass over the data (for the
      classification losses the intercept needs it balanced over the classes:
      the pass also returns ``X.T`` of the positive class's part for the binary
      losses, and the multinomial one mixes in the one-hot rows, whose ``X_c.T``
      is computed once per fit).
      For the squared loss it is
      the gradient at the new iterate. For the others the dual point's scaling
      into the dual domain needs reductions over the same pass that gives the
      gradient, so the gap of an iterate pairs its objective value with the dual
      point of the extrapolated point its step was taken from (built and scaled one
      pass earlier): a feasible dual point certifies any primal point, so the bound
      is as certified, and the iteration stays at one pass; it typically lags the
      gap of the iterate's own gradient by one iteration;
    - otherwise (no penalty: the dual is feasible only at the optimum), the squared
      norm of the proximal gradient mapping over twice the curvature constant,
      ``L/2 ||x - prox(x - grad / (L d))||_D^2``: the decrease one more step would
      guarantee.

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
    A. Beck and M. Teboulle, "A fast iterative shrinkage-thresholding algorithm for
    linear inverse problems", SIAM J. Imaging Sci., 2009.
    B. O'Donoghue and E. Candes, "Adaptive restart for accelerated gradient schemes",
    Found. Comput. Math., 2015.
    Y. Nesterov, "Smooth minimization of non-smooth functions", Math. Program., 2005.
    """
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


def _solve_direct(objective, w0, c0, *, max_iter, tol, verbose=0, callback=None):
    """Run :func:`solve_gd` on all the features at once (no working set)."""
    objective = planned(objective)
    loss = objective.loss
    ref = objective.reference_value()
    threshold = tol * ref
    if loss.is_smooth:
        # (With an infinite reference, e.g. squares of y overflowing, every point
        # meets tol: the iterations return their start at once, as before.)
        w_direct = objective.closed_form() if math.isfinite(ref) else None
        if w_direct is not None:
            return _from_closed_form(
                objective, w_direct, c0, max_iter, threshold, ref, verbose, callback
            )
        return _fista(
            objective,
            objective,
            w0,
            c0,
            max_iter,
            threshold,
            threshold,
            ref,
            verbose,
            callback,
        )

    certified = objective.has_duality_gap
    mu_floor = 2.0 * tol * ref if not certified else 1e-12 * ref
    mu = ref
    total, curve, w, c = 0, [], w0, c0
    while True:
        stage = objective.with_loss(loss.smoothed(mu))
        # A stage need not be solved below the error of its smoothing.
        stage_threshold = max(threshold, 0.1 * mu)
        res = _fista(
            stage,
            objective,
            w,
            c,
            max_iter - total,
            threshold,
            stage_threshold,
            ref,
            verbose,
            callback,
            first_iter=total,
        )
        total += res.n_iter
        curve += res.objective_curve
        w, c = res.coef, res.extra["offset"]
        done = res.converged if certified else mu <= mu_floor and res.extra["stage"]
        if done or total >= max_iter or mu <= mu_floor:
            break  # (at the floor no narrower stage can follow)
        # The smoothing's bias is about proportional to mu: a problem gap just
        # above tol at the end of a stage needs a narrower stage, not a 10x
        # narrower one (whose iterations grow like 1 / mu).
        shrink = 0.1
        if certified and res.extra["measure"] > 0:
            shrink = min(max(0.1, 0.5 * tol / res.extra["measure"]), 0.5)
        mu = max(mu * shrink, mu_floor)
    return SolverResult(
        coef=w,
        intercept=objective.intercept(w, c),
        n_iter=total,
        converged=bool(done),
        objective_curve=curve,
        extra={"measure": res.extra["measure"], "offset": c},
    )


def _from_closed_form(objective, w, c0, max_iter, threshold, ref, verbose, callback):
    """Finish a fit from a closed-form solution ``w`` (one iteration).

    The solution counts as the first iteration (one use of the Gram matrix) and is
    certified like any iterate: :func:`_fista` starts from it and returns at once
    when its stopping measure is below ``threshold``, else iterates from there.
    """
    start_time = time.perf_counter()
    value = objective.value(w, objective.raw(w, c0))
    check_finite_objective(
        value, step_name="step size", step=1.0, iteration=1, hint=_DIVERGENCE_HINT
    )
    if verbose:
        print(
            f"[gd] iter    1  objective {value:.8e}  closed form (linear solve)  "
            f"{time.perf_counter() - start_time:.2f}s"
        )
    if callback is not None:
        callback(1, w, value)
    res = _fista(
        objective,
        objective,
        w,
        c0,
        max_iter - 1,
        threshold,
        threshold,
        ref,
        verbose,
        callback,
        first_iter=1,
    )
    return dataclasses.replace(
        res, n_iter=res.n_iter + 1, objective_curve=[value, *res.objective_curve]
    )


# Dual points (their reductions and dual values) are made once the free
# proximal-gradient measure, a lower bound on the gap, is within this factor of the
# threshold: a converging gap follows it from above, usually by well under this.
_NEAR = 100.0


def _fista(
    objective,
    report,
    w0,
    c0,
    max_iter,
    threshold,
    stage_threshold,
    ref,
    verbose,
    callback,
    first_iter=0,
):
    """Run FISTA with backtracking and restart on a smooth objective (see solve_gd).

    ``report`` is the problem being solved: ``objective`` itself, or the non-smooth
    objective of which ``objective`` is a smoothing. The run stops, converged, when
    the measure of ``report`` is below ``threshold``, and ends its stage when the
    measure of ``objective`` is below ``stage_threshold`` (``extra["stage"]``).
    """
    cxp = objective.coef_xp
    loss, penalty = objective.loss, objective.penalty
    d = objective.metric()
    to_float = objective.backend.to_float
    free_c = objective.intercept_mode == "free"
    n_outputs = objective.n_outputs
    quadratic = loss.is_quadratic
    smoothing = report is not objective
    use_gap = objective.has_duality_gap
    report_gap = report.has_duality_gap
    curv = float(loss.curvature_bound)
    start_time = time.perf_counter()
    # Without an affine gradient each iteration makes a pass over X of its own, and
    # everything the iteration needs comes from that one pass (objective.pass_terms):
    # the step test, the objective values, the dual values, the next gradient.
    fused = not quadratic
    # The objectives whose gaps are measured, and the losses whose means the pass
    # returns at each new iterate (the problem's first: it gives the objective).
    gap_objectives = [objective] if use_gap else []
    if smoothing and report_gap:
        gap_objectives.append(report)
    losses = (report.loss, loss) if smoothing and use_gap else (report.loss,)

    def dot_c(a, b):
        """Inner product of offsets: floats, or ``(K,)`` arrays for K outputs."""
        return a * b if n_outputs == 1 else to_float(cxp.sum(a * b))

    def norm2_d(dw, dc):
        """Squared length of a step in the metric (``c`` has unit metric)."""
        return to_float(cxp.sum(d * dw * dw)) + dot_c(dc, dc)

    def prox_measure(w, gw, gc, L):
        """Return ``L/2 ||w - prox(w - grad / (L d))||_D^2`` (no pass over X)."""
        step = 1.0 / (L * d)
        dw = w - penalty.prox(w - step * gw, step)
        return 0.5 * L * norm2_d(dw, gc / L)

    def measures(w, c, raw, g_raw, gw, gc, L):
        """Return the (stage, problem) stopping measures at a point with gradient."""
        if use_gap:
            stage = objective.duality_gap(w, raw, gw, None if quadratic else g_raw)
        else:
            stage = prox_measure(w, gw, gc, L)
        if not smoothing:
            return stage, stage
        if report_gap:
            return stage, report.duality_gap(w, raw, gw, g_raw)
        return stage, math.inf

    def near(cheap):
        """Whether a free lower bound on the stage's gap is near its threshold."""
        return cheap <= _NEAR * stage_threshold

    def dual_points(terms):
        """Return the dual points made at a pass's gradient, with their ``X_c.T``."""
        shift, v = objective.dual_point(terms)
        pairs = [(o.loss, o.dual_scale(v, terms)) for o in gap_objectives]
        return (shift, pairs), v

    def pass_measures(w, terms, dual, point, L):
        """Return the (stage, problem) measures at ``w`` from its pass ``terms``.

        A gap pairs the objective at ``w`` with the dual point ``dual`` built at an
        earlier point (the extrapolated point the step to ``w`` was taken from):
        any feasible dual point bounds the suboptimality of any primal point.
        Without a gap the measure is the proximal-gradient one at ``point = (v,
        grad_w, grad_c)``, where the pass took the gradient; the caller checks it
        at ``w`` itself before stopping. Without a dual point (none is made while
        the free lower bound is far from the thresholds) nothing is certified: the
        lower bound stands for the stage measure, but may not end the stage.
        """
        if gap_objectives and dual is None:
            cheap = prox_measure(*point, L)
            if use_gap:
                cheap = cheap if cheap > stage_threshold else math.inf
            return cheap, (cheap if not smoothing else math.inf)
        gaps = iter(())
        if gap_objectives:
            (_, pairs), v = dual
            pen = report.penalty_value(w)
            # The problem's value comes first, the stage's (when smoothing) last.
            primal = [terms["values"][-1] + pen] if use_gap else []
            if smoothing and report_gap:
                primal.append(terms["values"][0] + pen)
            gaps = iter(
                o.gap(value, dv, k, v)
                for o, value, dv, (_, k) in zip(
                    gap_objectives, primal, terms["duals"], pairs, strict=True
                )
            )
        stage = next(gaps) if use_gap else prox_measure(*point, L)
        if not smoothing:
            return stage, stage
        return stage, next(gaps, math.inf)

    def gradient(raw):
        """Return the raw gradient and its backpropagation (one pass ``X.T @ g``)."""
        return objective.gradient(raw)

    def finish(w, c, n_iter, curve, converged, measure, stage_done):
        return SolverResult(
            coef=w,
            intercept=objective.intercept(w, c),
            n_iter=n_iter,
            converged=converged,
            objective_curve=curve,
            extra={"measure": measure / ref, "offset": c, "stage": stage_done},
        )

    w = w0
    c = c0 if free_c else objective.initial_offset()
    raw = objective.raw(w, c)
    # Lower bound on the curvature constant (its diagonal): backtracking grows it.
    L = curv * max(objective.curvature_floor(), 1.0 if free_c else 0.0)
    if not L > 0:
        L = curv
    # ... and the trace bounds it from above (c adds a unit diagonal entry).
    L_max = curv * max(
        objective.curvature_ceiling() + (float(n_outputs) if free_c else 0.0), 1.0
    )
    dual = None
    if fused:
        # Sample-sized vectors are persisted when made (a no-op in memory), so that
        # a lazy backend evaluates each once, not in every pass that reads it.
        (raw,) = objective.backend.persist(raw)
        terms = objective.pass_terms(
            raw, None, raw, losses=losses if gap_objectives else ()
        )
        gw, gc = terms["grad"]
        if gap_objectives and near(prox_measure(w, gw, gc, L)):
            # The start needs a second pass: its dual point scales by the first.
            dual = dual_points(terms)
            terms.update(objective.pass_terms(None, raw, None, duals=dual[0]))
        m_stage, m_true = pass_measures(w, terms, dual, (w, gw, gc), L)
        want_dual = dual is not None
    else:
        g_raw, gw, gc = gradient(raw)
        m_stage, m_true = measures(w, c, raw, g_raw, gw, gc, L)
    if m_true <= threshold or m_stage <= stage_threshold:
        return finish(w, c, 0, [], m_true <= threshold, m_true, True)
    if quadratic:
        g_raw = None  # unused by the squared loss's measures (see below)

    y_w, y_c, raw_y, gy_w, gy_c = w, c, raw, gw, gc
    t = 1.0
    curve = []
    converged = stage_done = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        while True:
            step = 1.0 / (L * d)
            w_new = penalty.prox(y_w - step * gy_w, step)
            c_new = y_c - gy_c / L if free_c else c
            raw_new = objective.raw(w_new, c_new)
            dw, dc = w_new - y_w, c_new - y_c
            # Restart when the momentum points against the step just taken. This
            # needs coefficients only, so the next extrapolated point is known before
            # the pass that tests the step, and a fused pass takes its gradient too
            # (wasted only when backtracking rejects the step).
            restart = (
                to_float(cxp.sum(d * (y_w - w_new) * (w_new - w)))
                + dot_c(y_c - c_new, c_new - c)
                > 0
            )
            t_now = 1.0 if restart else t
            t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t_now * t_now))
            beta = (t_now - 1.0) / t_next
            if fused:
                raw_new, raw_next = objective.backend.persist(
                    raw_new, raw_new + beta * (raw_new - raw)
                )
                terms = objective.pass_terms(
                    raw_new,
                    raw_y,
                    raw_next,
                    losses=losses,
                    duals=None if dual is None else dual[0],
                    dual_terms=want_dual,
                )
                sq_norm, rounding = terms["step"]
            else:
                draw = raw_new - raw_y
                sq_norm, rounding = objective.step_terms(draw, dw, raw_new, raw_y)
            lhs = curv * sq_norm
            sq_step = norm2_d(dw, dc)
            # Rounding allowance: the predictions carry errors of a few ulps, which
            # dominate draw once steps get short (in float32 especially); they must
            # not be read as curvature.
            noise = curv * rounding
            if lhs <= L * sq_step * (1.0 + 1e-6) + noise or not sq_step > 0:
                break
            if L >= L_max:
                break  # the trace bound holds: what fails is rounding
            if not math.isfinite(lhs):
                check_finite_objective(
                    lhs,
                    step_name="step size",
                    step=1.0 / L,
                    iteration=first_iter + n_iter,
                    hint=_DIVERGENCE_HINT,
                )
            L = min(max(1.5 * L, 1.1 * lhs / sq_step), L_max)
        draw = None  # only the step test reads it: not held through the iteration
        t = t_next

        if fused:
            value = terms["values"][0] + report.penalty_value(w_new)
        else:
            value = report.value(w_new, raw_new)
        check_finite_objective(
            value,
            step_name="step size",
            step=1.0 / L,
            iteration=first_iter + n_iter,
            hint=_DIVERGENCE_HINT,
        )
        curve.append(value)

        y_w = w_new + beta * (w_new - w)
        y_c = c_new + beta * (c_new - c)
        if quadratic:
            # The squared loss's measures use no per-sample gradient: none is kept
            # (on sparse X, sample-sized vectors make the peak memory).
            gw_new, gc_new = gradient(raw_new)[1:]
            g_new = None
            raw_y = raw_new + beta * (raw_new - raw)
            m_stage, m_true = measures(w_new, c_new, raw_new, g_new, gw_new, gc_new, L)
            # The gradient is affine in the iterate: extrapolate it too (no new pass).
            gy_w = gw_new + beta * (gw_new - gw)
            gy_c = gc_new + beta * (gc_new - gc)
            gw, gc = gw_new, gc_new
        else:
            raw_y = raw_next
            gy_w, gy_c = terms["grad"]
            point = (y_w, gy_w, gy_c)
            m_stage, m_true = pass_measures(w_new, terms, dual, point, L)
            dual = dual_points(terms) if want_dual else None
            # The next pass makes a dual point (its parts, one more column of the
            # product for the binary classification losses, and the dual values
            # one pass later) only once the free lower bound says the end is near.
            want_dual = bool(gap_objectives) and near(prox_measure(*point, L))
            if not use_gap and (m_true <= threshold or m_stage <= stage_threshold):
                # The proximal-gradient measure at the extrapolated point says
                # "done": check the new iterate itself (one more pass, only then).
                g_new, gw_new, gc_new = gradient(raw_new)
                m_stage, m_true = measures(
                    w_new, c_new, raw_new, g_new, gw_new, gc_new, L
                )
        w, c, raw = w_new, c_new, raw_new

        if verbose:
            print(
                f"[gd] iter {first_iter + n_iter:4d}  objective {value:.8e}  "
                f"step 1/L={1.0 / L:.3e}  measure {m_true / ref:.3e} "
                f"(tol {threshold / ref:.1e})  {time.perf_counter() - start_time:.2f}s"
            )
        if callback is not None:
            callback(first_iter + n_iter, w, value)
        converged = m_true <= threshold
        stage_done = converged or m_stage <= stage_threshold
        if stage_done:
            break

    return finish(w, c, n_iter, curve, converged, m_true, stage_done)
