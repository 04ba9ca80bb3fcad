# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Full-batch solver for the non-smooth losses: proximal Newton on their smoothings.

The hinge and epsilon-insensitive losses are piecewise linear; their Moreau
envelopes (:meth:`~skgd.losses.Loss.smoothed`) are piecewise quadratic, with a
curvature of ``1 / mu`` on the samples near the kink and none elsewhere. The
first-order stages of :func:`~skgd.solvers._gd.solve_gd` need iterations in
proportion to ``1 / mu``; a Newton step does not see the curvature's size, only
which samples carry it, so each stage takes a few steps of
:func:`~skgd.solvers._newton.solve_newton` whatever its width. Every stage is
checked against the duality gap of the true, non-smooth problem, which is what
stops the run. Which problems it is chosen for is in :mod:`skgd.solvers._routing`.
"""

import math

from skgd.solvers._newton import solve_newton
from skgd.solvers._result import SolverResult

# Each stage narrows the smoothing by this factor. Measured on standardized
# breast cancer, hinge, L2 1e-4: tenfold narrowing took 17 + 23 + 34 Newton
# steps; a jump from 1 to 3.6e-3 (set by the smoothing's bias, as the
# first-order stages do) took 17 + 116: a stage far narrower than the last one
# changes the pieces of many samples at once, and its Newton steps get short.
_NARROWING = 0.1
# The widest stage, relative to the objective at zero (about the loss's unit).
_FIRST_WIDTH = 1.0
# The narrowest stage, relative to the objective at zero: the gap of the true
# problem falls about as the width (measured on standardized breast cancer,
# hinge, L2 1e-2: 3.7e-11 at 1e-8), and narrower stages meet the rounding of
# their curvature (the gap rose to 6e-12 at 1e-10 and 4e-9 at 1e-11).
_NARROWEST = 1e-10


def solve_smoothed_newton(
    objective, w0, c0, *, max_iter, tol, verbose=0, callback=None
):
    r"""Minimise a penalized non-smooth objective by Newton steps on its smoothings.

    **Stages.** The loss is replaced by its Moreau envelope of width ``mu``
    (within ``mu / 2`` of it), for widths from the objective at zero down by a
    factor of ten or more per stage, each warm-started from the previous
    solution and solved by :func:`~skgd.solvers._newton.solve_newton` to a
    duality gap of the smoothed problem below the smoothing's own error
    (``0.1 mu``), or below half of ``tol`` once that error is within ``tol``.

    **Stopping.** After each stage the duality gap of the true problem is made
    at its solution, with the dual point of the smoothed loss's gradient (a
    feasible dual point of the true problem: the envelope's derivatives lie in
    the loss's subdifferential range). The run stops when that gap, relative to
    the objective at zero, is below ``tol``: the result is certified for the
    non-smooth problem. It needs a penalty strength (a duality gap); without
    one the routing keeps :func:`~skgd.solvers._gd.solve_gd`.

    Parameters
    ----------
    objective : LinearObjective
        The problem: a non-smooth loss whose :meth:`smoothed` losses have a
        ``hessian``, an elastic-net-family penalty with a strength, one output.
    w0, c0 : array of shape (n_features,), float
        The start: coefficients and the centered model's offset.
    max_iter : int
        The most Newton steps, over all stages.
    tol : float
        Stopping tolerance, as above.
    verbose, callback
        As for :func:`~skgd.solvers._newton.solve_newton`.

    ``n_iter`` counts the Newton steps of all stages; the objective curve holds
    the smoothed objective after each step (below the true one by at most
    ``mu / 2``), except its last value: the true objective of the result.

    Returns
    -------
    result : SolverResult
        The solution of the stage with the smallest gap (usually the last), with
        ``extra["measure"]`` the relative duality gap of the true problem and
        ``extra["offset"]`` the centered offset.
    """
    ref = objective.reference_value()
    threshold = tol * ref
    best = [math.inf, w0, c0, 0]  # (gap, w, c, length of the curve)
    curve_length = [0]

    def solve_stage(stage, w, c, stage_tol, *, mu, max_iter, first_iter):
        res = solve_newton(
            stage,
            w,
            c,
            max_iter=max_iter,
            tol=stage_tol / stage.reference_value(),
            verbose=verbose,
            callback=_shifted(callback, first_iter),
        )
        measure = _true_gap(objective, stage, res.coef, res.extra["offset"])
        if verbose:
            print(
                f"[newton] smoothing width {mu / ref:.1e}: relative "
                f"duality gap of the non-smooth problem {measure / ref:.3e} "
                f"(tol {tol:.1e})"
            )
        # The gap need not fall at every stage (a stage stops at its own
        # tolerance), and narrow stages meet the rounding of their curvature
        # (1 / mu): the best stage is the result.
        curve_length[0] += len(res.objective_curve)
        if measure <= best[0]:
            best[:] = [measure, res.coef, res.extra["offset"], curve_length[0]]
        return res

    def next_stage(res, mu, stage_tol):
        stuck = res.n_iter == 0 and not res.converged
        if best[0] <= threshold or stuck or mu <= _NARROWEST * ref:
            return None
        return _stage(mu * _NARROWING, threshold)

    _, total, curve, _ = run_stages(
        objective,
        w0,
        c0,
        max_iter=max_iter,
        first=_stage(_FIRST_WIDTH * ref, threshold),
        solve_stage=solve_stage,
        next_stage=next_stage,
    )
    measure, w, c, steps = best
    curve = curve[:steps]
    if curve:
        curve[-1] = objective.value(w, objective.raw(w, c))
    return SolverResult(
        w,
        objective.intercept(w, c),
        total,
        bool(measure <= threshold),
        curve,
        {"measure": measure / ref, "offset": c},
    )


def _stage(mu, threshold):
    """Return ``(mu, stage_tol)``: a stage solved to its smoothing's error.

    That is ``0.1 mu``, or half the threshold once ``mu / 4`` is within it.
    """
    if 0.25 * mu <= threshold:
        return mu, 0.5 * threshold
    return mu, max(threshold, 0.1 * mu)


def run_stages(objective, w0, c0, *, max_iter, first, solve_stage, next_stage):
    """Minimise a non-smooth ``objective`` through smoothings of decreasing width.

    The loop that both :func:`solve_smoothed_newton` and ``"gd"``'s smoothing
    stages (:func:`skgd.solvers._gd._smoothing_stages`) run: each stage replaces
    the loss by ``loss.smoothed(mu)`` and is warm-started from the previous one.

    Parameters
    ----------
    objective : LinearObjective
        The non-smooth problem.
    w0, c0 : array of shape (n_features,), float
        The start: coefficients and the centered model's offset.
    max_iter : int
        The most iterations over all stages: the run ends when they are spent.
    first : (float, float)
        The first stage's ``(mu, stage_tol)``: its width and the threshold of
        its own measure.
    solve_stage : callable
        ``solve_stage(stage, w, c, stage_tol, mu=mu, max_iter=left,
        first_iter=done)`` solves the smoothed objective ``stage`` (of width
        ``mu``) from ``(w, c)``; it returns a
        :class:`~skgd.solvers._result.SolverResult` with ``extra["offset"]``.
    next_stage : callable
        ``next_stage(res, mu, stage_tol)`` returns the next stage's ``(mu,
        stage_tol)``, or None to end the run.

    Returns
    -------
    res : SolverResult
        The last stage's result.
    n_iter : int
        The iterations of all stages.
    curve : list of float
        Their objective curves, end to end.
    mu : float
        The last stage's width.
    """
    mu, stage_tol = first
    total, curve, w, c = 0, [], w0, c0
    while True:
        stage = objective.with_loss(objective.loss.smoothed(mu))
        left = {"max_iter": max_iter - total, "first_iter": total}
        res = solve_stage(stage, w, c, stage_tol, mu=mu, **left)
        total += res.n_iter
        curve += res.objective_curve
        w, c = res.coef, res.extra["offset"]
        step = None if total >= max_iter else next_stage(res, mu, stage_tol)
        if step is None:
            return res, total, curve, mu
        mu, stage_tol = step


def _shifted(callback, done):
    """Return ``callback`` with the iterations of the earlier stages counted."""
    if callback is None:
        return None
    return lambda n_iter, w, value: callback(done + n_iter, w, value)


def _true_gap(objective, stage, w, c):
    """Return the duality gap of ``objective`` at ``(w, c)``, from ``stage``'s dual."""
    raw = objective.raw(w, c)
    g = stage.raw_gradient(raw)
    grad_w, _ = stage.backprop(g)
    return objective.duality_gap(w, raw, grad_w, g)
