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
    mu = _FIRST_WIDTH * ref
    total, curve, w, c = 0, [], w0, c0
    best = (math.inf, w0, c0, 0)
    while True:
        stage = objective.with_loss(objective.loss.smoothed(mu))
        fine = 0.25 * mu <= threshold
        stage_threshold = 0.5 * threshold if fine else max(threshold, 0.1 * mu)
        res = solve_newton(
            stage,
            w,
            c,
            max_iter=max_iter - total,
            tol=stage_threshold / stage.reference_value(),
            verbose=verbose,
            callback=_shifted(callback, total),
        )
        total += res.n_iter
        curve += res.objective_curve
        w, c = res.coef, res.extra["offset"]
        measure = _true_gap(objective, stage, w, c)
        if verbose:
            print(
                f"[newton] smoothing width {mu / ref:.1e}: relative duality gap of "
                f"the non-smooth problem {measure / ref:.3e} (tol {tol:.1e})"
            )
        # The gap need not fall at every stage (a stage stops at its own
        # tolerance), and narrow stages meet the rounding of their curvature
        # (1 / mu): the best stage is the result.
        if measure <= best[0]:
            best = (measure, w, c, len(curve))
        stuck = res.n_iter == 0 and not res.converged
        if best[0] <= threshold or stuck or total >= max_iter:
            break
        if mu <= _NARROWEST * ref:
            break
        mu *= _NARROWING
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
