# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Full-batch solver: accelerated proximal gradient (FISTA) in a diagonal metric.

It needs no step-size tuning: the metric makes the problem scale-free, and the step
comes from backtracking on the exact curvature along each step. It knows nothing of
the kind of X (the objective's backend does) nor of the estimator.
"""

import math
import time

from skgd.solvers._result import SolverResult, check_finite_objective

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
    backtracking step (rare after the first iterations).

    **Stopping.** ``tol`` bounds, relative to the objective at zero coefficients:

    - for the squared loss with an L1, L2 or elastic-net penalty, the duality gap,
      a certified upper bound on the suboptimality;
    - otherwise (no penalty, or another loss), the squared norm of the proximal
      gradient mapping over twice the curvature constant, ``L/2 ||x - prox(x -
      grad / (L d))||_D^2``: the decrease one more step would guarantee.

    **Non-smooth losses** (``epsilon_insensitive``) are replaced by their Moreau
    envelope of width ``mu`` (a Huber-like smoothing that differs from the loss by at
    most ``mu / 2``), solved for a decreasing sequence of ``mu`` down to ``2 tol``
    times the objective at zero, each stage warm-started from the previous one.

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
    loss = objective.loss
    ref = objective.zero_value()
    if not ref > 0:
        # A target the zero model already fits exactly: measure against rounding level.
        ref = float(objective.xp.finfo(objective.dtype).eps)
    if loss.is_smooth:
        return _fista(objective, w0, c0, max_iter, tol, ref, verbose, callback)

    # Continuation over the smoothing width, from the scale of the residuals down to
    # the accuracy asked for: early stages are cheap and give later ones a start.
    mu_final = max(2.0 * tol * ref, 1e-12)
    mu = max(ref, mu_final)
    total, curve, w, c = 0, [], w0, c0
    while True:
        stage = objective.with_loss(loss.smoothed(mu))
        res = _fista(
            stage, w, c, max_iter - total, tol, ref, verbose, callback, objective
        )
        total += res.n_iter
        curve += res.objective_curve
        w, c = res.coef, res.extra["offset"]
        if mu <= mu_final or total >= max_iter:
            break
        mu = max(mu / 10.0, mu_final)
    return SolverResult(
        coef=w,
        intercept=objective.intercept(w, c),
        n_iter=total,
        converged=res.converged and mu <= mu_final,
        objective_curve=curve,
        extra={"measure": res.extra["measure"], "offset": c},
    )


def _fista(objective, w0, c0, max_iter, tol, ref, verbose, callback, report=None):
    """Run FISTA with backtracking and restart on a smooth objective (see solve_gd).

    ``report`` is the objective whose value is recorded (the true one when
    ``objective`` is a smoothing of it).
    """
    report = objective if report is None else report
    xp = objective.xp
    loss, penalty = objective.loss, objective.penalty
    u = objective.u
    d = objective.metric()
    to_float = objective.backend.to_float
    free_c = objective.intercept_mode == "free"
    quadratic = loss.is_quadratic
    use_gap = objective.has_duality_gap
    curv = float(loss.curvature_bound)
    threshold = tol * ref
    start_time = time.perf_counter()

    def norm2_d(dw, dc):
        """Squared length of a step in the metric (``c`` has unit metric)."""
        return to_float(xp.sum(d * dw * dw)) + dc * dc

    def measure_at(w, raw, gw, gc, L):
        """Return the stopping measure at a point whose gradient is known."""
        if use_gap:
            return objective.duality_gap(w, raw, gw)
        step = 1.0 / (L * d)
        dw = w - penalty.prox(w - step * gw, step)
        return 0.5 * L * norm2_d(dw, gc / L)

    w = w0
    c = c0 if free_c else objective.initial_offset()
    raw = objective.raw(w, c)
    gw, gc = objective.backprop(objective.raw_gradient(raw))
    # Lower bound on the curvature constant (its diagonal): backtracking grows it.
    L = curv * max(objective.curvature_floor(), 1.0 if free_c else 0.0)
    if not L > 0:
        L = curv
    measure = measure_at(w, raw, gw, gc, L)
    if measure <= threshold:
        return SolverResult(
            w,
            objective.intercept(w, c),
            0,
            True,
            [],
            {"measure": measure / ref, "offset": c},
        )

    y_w, y_c, raw_y, gy_w, gy_c = w, c, raw, gw, gc
    t = 1.0
    curve = []
    converged = False
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        while True:
            step = 1.0 / (L * d)
            w_new = penalty.prox(y_w - step * gy_w, step)
            c_new = y_c - gy_c / L if free_c else c
            raw_new = objective.raw(w_new, c_new)
            dw, dc = w_new - y_w, c_new - y_c
            draw = raw_new - raw_y
            lhs = curv * to_float(xp.sum(u * draw * draw))
            sq_step = norm2_d(dw, dc)
            # Rounding allowance: a step this short changes the predictions by less
            # than the precision of the arithmetic.
            if lhs <= L * sq_step * (1.0 + 1e-6) or not sq_step > 0:
                break
            if not math.isfinite(lhs):
                check_finite_objective(
                    lhs,
                    step_name="step size",
                    step=1.0 / L,
                    iteration=n_iter,
                    hint=_DIVERGENCE_HINT,
                )
            L = max(1.5 * L, 1.1 * lhs / sq_step)

        value = report.value(w_new, raw_new)
        check_finite_objective(
            value,
            step_name="step size",
            step=1.0 / L,
            iteration=n_iter,
            hint=_DIVERGENCE_HINT,
        )
        curve.append(value)

        if quadratic:
            gw_new, gc_new = objective.backprop(objective.raw_gradient(raw_new))
        # Restart when the momentum points against the step just taken.
        if (
            to_float(xp.sum(d * (y_w - w_new) * (w_new - w)))
            + (y_c - c_new) * (c_new - c)
            > 0
        ):
            t = 1.0
        t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        t = t_next

        if quadratic:
            measure = measure_at(w_new, raw_new, gw_new, gc_new, L)
            # The gradient is affine in the iterate: extrapolate it too (no new pass).
            gy_w = gw_new + beta * (gw_new - gw)
            gy_c = gc_new + beta * (gc_new - gc)
            gw, gc = gw_new, gc_new
        else:
            # Gradient mapping at y, whose gradient we have: L/2 ||y - x_new||_D^2.
            measure = 0.5 * L * sq_step
        y_w = w_new + beta * (w_new - w)
        y_c = c_new + beta * (c_new - c)
        raw_y = raw_new + beta * (raw_new - raw)
        w, c, raw = w_new, c_new, raw_new
        if not quadratic:
            gy_w, gy_c = objective.backprop(objective.raw_gradient(raw_y))

        if verbose:
            print(
                f"[gd] iter {n_iter:4d}  objective {value:.8e}  step 1/L={1.0 / L:.3e}"
                f"  measure {measure / ref:.3e} (tol {tol:.1e})"
                f"  {time.perf_counter() - start_time:.2f}s"
            )
        if callback is not None:
            callback(n_iter, w, value)
        if measure <= threshold:
            converged = True
            break

    return SolverResult(
        coef=w,
        intercept=objective.intercept(w, c),
        n_iter=n_iter,
        converged=converged,
        objective_curve=curve,
        extra={"measure": measure / ref, "offset": c},
    )
