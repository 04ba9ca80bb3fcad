# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The accelerated proximal-gradient kernel shared by the full-batch solvers.

One loop, written once: a proximal-gradient step from the momentum point, the step
size raised by backtracking on the curvature along the step, Nesterov momentum with
gradient-based adaptive restart, and a stopping test. What a problem representation
changes (how to take the step and evaluate the objective there, how to measure
optimality) comes from an :class:`Oracle`: the sample-space solver of
:mod:`skgd.solvers._gd` (one per-sample evaluation, or one fused pass on Dask) and
the Gram-matrix solver of :mod:`skgd.solvers._gram_enet` are two such oracles.

The iteration is FISTA (Beck and Teboulle, "A fast iterative shrinkage-thresholding
algorithm for linear inverse problems", SIAM J. Imaging Sci., 2009) with the
gradient-based adaptive restart of O'Donoghue and Candes ("Adaptive restart for
accelerated gradient schemes", Found. Comput. Math., 2015): momentum is reset when
it points against the last step, which recovers linear convergence on strongly
convex problems without knowing their condition number.
"""

import math
from dataclasses import dataclass, field


@dataclass
class APGState:
    """Where an accelerated proximal-gradient run stands.

    The points are the oracle's own objects (coefficients with whatever products
    and gradients the oracle keeps beside them); the kernel only moves them.

    Parameters
    ----------
    x : object
        The iterate.
    y : object
        The momentum (extrapolated) point the next step is taken from.
    L : float
        The curvature constant: steps are ``1 / (L d_j)`` in the metric ``d``.
    L_max : float
        An upper bound on the curvature constant (backtracking stops there).
    t : float, default=1.0
        The momentum sequence of FISTA (1 right after a restart).
    curve : list of float
        The objective after each iteration.
    measure : object, default=None
        The oracle's latest stopping measure.
    done : bool, default=False
        Whether the oracle's stopping test is met.
    n_iter : int, default=0
        Iterations made by :func:`run`.
    """

    x: object
    y: object
    L: float
    L_max: float
    t: float = 1.0
    curve: list = field(default_factory=list)
    measure: object = None
    done: bool = False
    n_iter: int = 0


class Oracle:
    """What the kernel asks of a problem representation (a base to subclass).

    A candidate is the oracle's record of one trial step; the kernel passes it
    back unchanged. The methods are called in this order, within one iteration:
    ``prox_step``, ``restarts`` and ``curvature`` for each trial step size (with
    ``check_curvature`` when the step is rejected), then ``accept`` and
    ``report`` once.
    """

    def prox_step(self, state):
        """Return the candidate of the proximal step from ``state.y`` at ``state.L``."""
        raise NotImplementedError

    def restarts(self, state, cand):
        """Whether the momentum points against the step to ``cand`` (reset it)."""
        raise NotImplementedError

    def curvature(self, state, cand, beta):
        """Return ``(lhs, sq_step, noise)`` of the step test of :func:`backtrack`.

        ``beta`` is the momentum the next extrapolation will use, known before the
        step is accepted: an oracle may evaluate that point in the same pass.
        """
        raise NotImplementedError

    def check_curvature(self, lhs, state, n_iter):
        """Check a rejected step's curvature ``lhs`` (raise if it must not go on)."""

    def accept(self, state, cand, beta, n_iter):
        """Move ``state`` to ``cand`` and its momentum point; return the objective.

        Sets ``state.x``, ``state.y``, ``state.measure`` and ``state.done`` (and
        may reset ``state.t``).
        """
        raise NotImplementedError

    def report(self, n_iter, state, value):
        """Tell the user about iteration ``n_iter`` (verbose line, callback)."""


def momentum(t):
    """Return FISTA's next ``t`` and the extrapolation weight ``beta`` after ``t``."""
    t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
    return t_next, (t - 1.0) / t_next


# The most a rejected step may multiply L by where no global bound caps it.
_GROWTH_CAP = 16.0


def backtrack(oracle, state, n_iter):
    """Return the accepted candidate step, with the momentum ``(t_next, beta)``.

    The step ``1 / (L d)`` is accepted when the quadratic upper bound holds along
    it, ``lhs <= L sq_step`` (up to a relative ``1e-6`` and the rounding
    allowance ``noise``), or when it is empty; else ``L`` grows, at least by half,
    up to ``state.L_max``, where the bound holds for sure and what fails is
    rounding. The restart decision needs coefficients only, so it is made for each
    trial step before the oracle evaluates it.
    """
    while True:
        cand = oracle.prox_step(state)
        t_next, beta = momentum(1.0 if oracle.restarts(state, cand) else state.t)
        lhs, sq_step, noise = oracle.curvature(state, cand, beta)
        holds = lhs <= state.L * sq_step * (1.0 + 1e-6) + noise
        if holds or not sq_step > 0 or state.L >= state.L_max:
            return cand, t_next, beta
        oracle.check_curvature(lhs, state, n_iter)
        grow = 1.1 * lhs / sq_step
        if math.isinf(state.L_max):
            # A loss of unbounded curvature (the exponential of the GLMs): along
            # a step far too long, the curvature read off it overstates what a
            # shorter one meets by the exponential of the overshoot (1/L fell to
            # 1e-30 on counts near 100), and L never comes down.
            grow = min(grow, _GROWTH_CAP * state.L)
        state.L = min(max(1.5 * state.L, grow), state.L_max)


def run(oracle, state, *, first, last):
    """Iterate from iteration number ``first`` to ``last`` or until ``state.done``.

    Each iteration backtracks to an accepted step (:func:`backtrack`), lets the
    oracle move the state there and measure it, records the objective and reports.
    Returns ``state``, with ``n_iter`` the number of iterations made.
    """
    for n_iter in range(first, last + 1):
        cand, state.t, beta = backtrack(oracle, state, n_iter)
        value = oracle.accept(state, cand, beta, n_iter)
        state.curve.append(value)
        state.n_iter += 1
        oracle.report(n_iter, state, value)
        if state.done:
            break
    return state
