# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Learning-rate schedules: callables from the 1-based update index ``t`` to ``eta``.

The formulas are SGDRegressor's, so ``batch_size=1`` reproduces its step sizes. The
reduction of ``"adaptive"`` on stagnation is the minibatch solver's business (it needs
the epoch losses); a schedule only says whether it may be reduced.
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Constant:
    r"""The constant schedule :math:`\eta_t = \eta_0`.

    Parameters
    ----------
    eta0 : float
        The step size, positive.

    Examples
    --------
    >>> from skgd.optimizers import Constant
    >>> Constant(eta0=0.1)(7)
    0.1
    """

    eta0: float
    name = "constant"
    adaptive = False

    def __call__(self, t):
        """Return the step size of update ``t`` (1-based)."""
        return self.eta0

    def describe(self):
        """Return the settings in the estimator's words, for error messages."""
        return f"learning_rate={self.name!r}, eta0={self.eta0:g}"


@dataclass(frozen=True)
class Adaptive(Constant):
    r"""SGDRegressor's ``"adaptive"``: :math:`\eta_0`, divided by 5 on stagnation.

    The schedule itself is constant; the minibatch solver divides the step by 5
    whenever the epoch loss (or the validation score) has not improved by ``tol``
    for ``n_iter_no_change`` epochs, and stops once the step is below ``1e-6``.

    Parameters
    ----------
    eta0 : float
        The initial step size, positive.

    Examples
    --------
    >>> from skgd.optimizers import Adaptive
    >>> schedule = Adaptive(eta0=0.1)
    >>> schedule(100), schedule.adaptive
    (0.1, True)
    """

    name = "adaptive"
    adaptive = True


@dataclass(frozen=True)
class InvScaling:
    r"""The inverse-scaling schedule :math:`\eta_t = \eta_0 / t^{p}`, ``p = power_t``.

    Parameters
    ----------
    eta0 : float
        The step size of the first update, positive.
    power_t : float
        The exponent ``p``.

    Examples
    --------
    >>> from skgd.optimizers import InvScaling
    >>> InvScaling(eta0=0.01, power_t=0.5)(4)
    0.005
    """

    eta0: float
    power_t: float
    name = "invscaling"
    adaptive = False

    def __call__(self, t):
        """Return the step size of update ``t`` (1-based)."""
        return self.eta0 / math.pow(t, self.power_t)

    def describe(self):
        """Return the settings in the estimator's words, for error messages."""
        return (
            f"learning_rate={self.name!r}, eta0={self.eta0:g}, power_t={self.power_t:g}"
        )


@dataclass(frozen=True)
class PerRow:
    r"""A step per update that sums the per-row steps of ``"invscaling"`` over its rows.

    An update on rows ``s + 1 .. s + B`` (``s`` rows seen before it) takes

    .. math::

        \eta = \min\Big(\text{cap},\; f \eta_0 \int_{s+1}^{s+B+1} r^{-p}\,dr\Big)
        = \min\Big(\text{cap},\; f \eta_0
        \frac{(s + B + 1)^{1-p} - (s + 1)^{1-p}}{1 - p}\Big),

    about ``f`` times the sum of the steps that ``"invscaling"`` would give its
    rows one at a time (``log`` of the ratio for ``p = 1``). The step thus decays
    with the rows seen, not with the updates made, and an update learns as much
    per row whatever the batch size: the rule of a ``partial_fit`` stream, whose
    chunks (of whole batches) give the steps of the one array they split.
    ``cap`` bounds the step by the curvature (see the estimators' ``learning_rate``).

    Parameters
    ----------
    eta0 : float
        The per-row step of the first row, positive.
    power_t : float
        The exponent ``p``.
    factor : float, default=1.0
        The factor ``f``.
    cap : float, default=inf
        The largest step.

    Examples
    --------
    >>> from skgd.optimizers import PerRow
    >>> schedule = PerRow(eta0=0.01, power_t=0.0, cap=0.5)
    >>> schedule.rows(0, 10), schedule.rows(0, 100)
    (0.1, 0.5)
    >>> round(PerRow(eta0=0.01, power_t=0.5).rows(99, 1), 6)  # ~ 0.01 / sqrt(100)
    0.000998
    """

    eta0: float
    power_t: float
    factor: float = 1.0
    cap: float = math.inf
    name = "adaptive"
    adaptive = True
    per_row = True

    def rows(self, seen, rows):
        """Return the step of an update on ``rows`` rows after ``seen`` rows."""
        a, b, p = seen + 1.0, seen + rows + 1.0, self.power_t
        total = math.log(b / a) if p == 1.0 else (b ** (1 - p) - a ** (1 - p)) / (1 - p)
        return min(self.cap, self.factor * self.eta0 * total)

    def __call__(self, t):
        """Return the step of a one-row update on row ``t`` (1-based)."""
        return self.rows(t - 1, 1)

    def describe(self):
        """Return the settings in the estimator's words, for error messages."""
        return (
            f"learning_rate={self.name!r} in a stream (per-row steps eta0={self.eta0:g}"
            f" / rows**{self.power_t:g} times {self.factor:g}, at most {self.cap:.3g})"
        )


@dataclass(frozen=True)
class Optimal:
    r"""SGDRegressor's ``"optimal"`` schedule.

    .. math::

        \eta_t = \frac{1}{\alpha (t_0 + t - 1)}.

    Bottou's heuristic sets ``t_0`` so that the first step is
    :math:`\eta_1 = w_{typ} / \max(1, L'(1, -w_{typ}))` with
    :math:`w_{typ} = \sqrt{1 / \sqrt{\alpha}}`, a typical weight size for the penalty
    strength; ``L'`` is the loss derivative in the prediction. ``eta0`` is not used.

    Parameters
    ----------
    alpha : float
        The penalty strength, positive.
    first_eta : float
        The first step :math:`\eta_1`; :func:`optimal` computes it from the loss.

    Examples
    --------
    >>> from skgd.losses import SquaredError
    >>> from skgd.optimizers import optimal
    >>> schedule = optimal(alpha=1e-4, loss=SquaredError())
    >>> round(schedule(1), 12), round(schedule(2), 6)
    (10.0, 9.99001)
    """

    alpha: float
    first_eta: float
    name = "optimal"
    adaptive = False

    @property
    def t0(self):
        """The offset ``t_0 = 1 / (eta_1 alpha)``."""
        return 1.0 / (self.first_eta * self.alpha)

    def __call__(self, t):
        """Return the step size of update ``t`` (1-based)."""
        return 1.0 / (self.alpha * (self.t0 + t - 1))

    def describe(self):
        """Return the settings in the estimator's words, for error messages."""
        return (
            f"learning_rate={self.name!r} (first step {self.first_eta:.3g}, "
            f"alpha={self.alpha:g})"
        )


def optimal(alpha, loss):
    """Return the :class:`Optimal` schedule with SGDRegressor's heuristic ``t_0``.

    Parameters
    ----------
    alpha : float
        The penalty strength, positive.
    loss : Loss
        The loss, whose derivative at ``(y, raw) = (1, -w_typ)`` enters the heuristic.

    Returns
    -------
    schedule : Optimal
        The schedule.

    Examples
    --------
    >>> from skgd.losses import Huber
    >>> from skgd.optimizers import optimal
    >>> optimal(alpha=0.01, loss=Huber()).first_eta
    3.1622776601683795
    """
    from array_api_compat import numpy as xp  # scalars only: no data involved

    typw = math.sqrt(1.0 / math.sqrt(alpha))
    n_outputs = getattr(loss, "n_outputs", 1)
    if n_outputs > 1:
        # A loss of several outputs (multinomial): class 0, its logit at -w_typ.
        raw = xp.zeros((1, n_outputs))
        raw[0, 0] = -typw
        dloss = float(xp.max(xp.abs(loss.gradient(xp.asarray([0.0]), raw))))
    else:
        dloss = float(loss.gradient(xp.asarray([1.0]), xp.asarray([-typw]))[0])
    return Optimal(alpha=alpha, first_eta=typw / max(1.0, dloss))


def get_schedule(learning_rate, *, eta0, power_t, alpha, loss):
    """Return the schedule named as in SGDRegressor's ``learning_rate``.

    Parameters
    ----------
    learning_rate : {"constant", "optimal", "invscaling", "adaptive"}
        The schedule's name.
    eta0 : float
        The initial step size (unused by ``"optimal"``).
    power_t : float
        The exponent of ``"invscaling"``.
    alpha : float
        The penalty strength (``"optimal"`` only).
    loss : Loss
        The loss (``"optimal"`` only).

    Returns
    -------
    schedule : callable
        ``schedule(t)`` is the step size of update ``t`` (1-based).

    Examples
    --------
    >>> from skgd.losses import SquaredError
    >>> from skgd.optimizers import get_schedule
    >>> s = get_schedule("invscaling", eta0=0.01, power_t=0.25, alpha=1e-4,
    ...                  loss=SquaredError())
    >>> round(s(16), 12)
    0.005
    """
    if learning_rate == "constant":
        return Constant(eta0=eta0)
    if learning_rate == "adaptive":
        return Adaptive(eta0=eta0)
    if learning_rate == "invscaling":
        return InvScaling(eta0=eta0, power_t=power_t)
    if learning_rate == "optimal":
        return optimal(alpha, loss)
    raise ValueError(f"Unknown learning_rate {learning_rate!r}.")
