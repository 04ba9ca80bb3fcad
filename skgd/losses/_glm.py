# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
r"""The losses of generalized linear models with a log link: Poisson, Gamma, Tweedie.

Each is half the unit deviance of its Tweedie family, a function of the linear
prediction ``raw`` through the mean ``mu = exp(raw)``; with the same penalty their
minimisers are those of scikit-learn's PoissonRegressor, GammaRegressor and
TweedieRegressor(link="log"). The curvature ``mu**(2 - p)``-like terms grow without
bound, so none declares a ``curvature_bound``: proximal Newton needs none, and
``"gd"`` weighs its step test by :meth:`TweedieDeviance.curvature_between`, a bound
along each step. Their exponentials are capped far
beyond any fitted mean, so that a diverging stochastic step gives a finite loss
that the solver's divergence test names. Only Array API standard functions are
used.
"""

import math
from dataclasses import dataclass

from skgd._backend._namespace import array_namespace
from skgd.losses._base import Loss
from skgd.losses._tweedie_conjugate import _wide, conjugate_sum, conjugate_upper


def _exp(t):
    """Return ``exp(t)`` with ``t`` capped at a third of the largest exponent.

    Far beyond any fitted mean (``e**236`` in float64, ``e**29`` in float32), so
    that a diverging stochastic step meets a huge finite loss, which the
    solver's divergence test names, instead of an overflow; sums and squares of
    the capped values stay finite.
    """
    xp = array_namespace(t)
    cap = math.log(float(xp.finfo(t.dtype).max)) / 3.0
    return xp.exp(xp.where(t > cap, cap, t))


def _xlogx(v):
    """Return ``v * log(v)`` with ``0 log 0 = 0`` (``v >= 0``)."""
    xp = array_namespace(v)
    positive = v > 0
    return xp.where(positive, v * xp.log(xp.where(positive, v, xp.ones_like(v))), 0.0)


def _dual_ratio(theta, u):
    """Return ``theta_i / u_i``, 0 where ``u_i = 0`` (there ``theta_i = 0`` too)."""
    xp = array_namespace(theta, u)
    return xp.where(u > 0, theta, 0.0 * u) / xp.where(u > 0, u, xp.ones_like(u))


def _young_total(terms, inside, u):
    """Return ``sum_i u_i t_i`` of Fenchel-Young terms, ``inf`` off the domain.

    Each ``t_i`` is non-negative: a computed one below 0 only by rounding is
    taken as 0 (where ``u_i = 0`` the term is left out). The sum is bounded
    from above for its own rounding, ``(log2(n) + 2) eps`` of the total (the
    terms being non-negative; pairwise and blocked summation, as in
    :func:`~skgd.losses._tweedie_conjugate.conjugate_sum`).
    """
    xp = array_namespace(terms, u)
    terms = xp.where(u > 0, xp.maximum(terms, 0.0 * terms), 0.0 * terms)
    eps = float(xp.finfo(terms.dtype).eps)
    n = terms.shape[0]
    n = max(n, 2) if isinstance(n, int) else 2**40  # (a lazy length: as if large)
    total = xp.sum(u * terms) * (1.0 + (math.log2(n) + 2.0) * eps)
    return xp.where(xp.all(inside | (u == 0)), total, math.inf)


def _infeasible_to_inf(value, bad):
    """Return ``value``, or ``-inf`` where the dual point leaves the domain."""
    xp = array_namespace(value)
    return xp.where(xp.any(bad), -math.inf, value)


@dataclass(frozen=True)
class TweedieDeviance(Loss):
    r"""Half the Tweedie unit deviance of ``mu = exp(raw)`` (log link).

    For the power :math:`p` outside :math:`\{1, 2\}`,

    .. math::

        L(y, f) = \frac{\max(y, 0)^{2-p}}{(1-p)(2-p)}
        - \frac{y \mu^{1-p}}{1-p} + \frac{\mu^{2-p}}{2-p}, \quad \mu = e^f,

    whose derivative is :math:`\mu^{1-p} (\mu - y)` and second derivative
    :math:`(2-p) \mu^{2-p} - (1-p) y \mu^{1-p}`. It is convex in ``f`` for
    :math:`1 \le p \le 2` only (every ``y`` of the domain); outside that range a fit
    finds a stationary point, as scikit-learn's does, with no certificate of
    optimality. Power 1 and 2 are :class:`PoissonDeviance` and
    :class:`GammaDeviance` (``get_loss`` returns those). No closed-form conjugate
    exists in general, so fits stop on the Newton decrement or the
    proximal-gradient measure, not a duality gap. For :math:`1 < p < 2`
    :meth:`dual_value` computes the conjugate numerically (a safe upper bound
    per sample, :mod:`skgd.losses._tweedie_conjugate`): it certifies the fits
    with features of penalty weight 0 (``has_numerical_conjugate``).

    Parameters
    ----------
    power : float, default=1.5
        The Tweedie power, TweedieRegressor's: ``p <= 0`` (y real) or ``p >= 1``
        (``y >= 0`` for ``1 <= p < 2``, ``y > 0`` for ``p >= 2``).

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import TweedieDeviance
    >>> loss = TweedieDeviance(power=1.5)
    >>> loss.pointwise(np.array([1.0, 4.0]), np.log(np.array([1.0, 1.0])))
    array([0., 2.])
    """

    power: float = 1.5
    curvature_bound = None
    link = "log"

    @property
    def has_positive_curvature(self):
        """Whether the loss is convex with positive curvature: ``1 <= p <= 2``."""
        return 1.0 <= self.power <= 2.0

    @property
    def has_numerical_conjugate(self):
        """Whether :meth:`dual_value` is the numerical one: ``1 < p < 2``."""
        return 1.0 < self.power < 2.0

    def dual_value(self, y, theta, u):
        """Return a lower bound on ``-sum_i u_i L_i^*(-theta_i / u_i)``, or None.

        For ``1 < p < 2``: each ``L_i^*`` by Newton's method, bounded from
        above with the margin of
        :func:`~skgd.losses._tweedie_conjugate.conjugate_upper` (so the
        duality gap is never below the exact one); ``-inf`` where ``y_i = 0``
        and ``theta_i > 0``, off the domain. None for the other powers (not
        convex, or :class:`PoissonDeviance` and :class:`GammaDeviance`).
        """
        if not self.has_numerical_conjugate:
            return None
        return -conjugate_sum(y, -_dual_ratio(theta, u), u, self.power)

    def fenchel_young_sum(self, y, raw, theta, u):
        r"""Return the sum of the samples' Fenchel-Young terms of the loss.

        That is ``sum_i u_i (L_i(raw_i) + L_i^*(s_i) - raw_i s_i)`` with
        ``s_i = -theta_i / u_i``: the loss's part of the duality gap as a sum
        of non-negative terms (see :func:`skgd._gaps.fenchel_young_applies`),
        each 0 where ``s_i`` is the derivative at ``raw_i``. Near the optimum
        each term is small, where the primal and dual sums are each made of
        terms far larger than the gap. In float64 where the namespace has it,
        whatever the data's dtype; ``inf`` off the conjugate's domain (where
        ``u_i > 0``).

        For ``1 < p < 2`` the conjugate is :func:`conjugate_upper`'s upper
        bound, and each term carries the rounding of ``L_i(raw_i) - raw_i
        s_i``, ``4 eps`` times the magnitudes of its terms times ``2 +
        |raw_i|`` (the exponentials' arguments round by ``eps |raw_i|``): the
        sum is never below the exact one. None for the other powers (not
        convex, or :class:`PoissonDeviance` and :class:`GammaDeviance`, which
        have their own).

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets.
        raw : array of shape (n_samples,)
            Linear predictions.
        theta : array of shape (n_samples,)
            A dual point (0 where ``u_i = 0``).
        u : array of shape (n_samples,)
            Sample weights, summing to 1.

        Returns
        -------
        total : 0-d array
            The sum, in float64 where the namespace has it.
        """
        if not self.has_numerical_conjugate:
            return None
        xp = array_namespace(y, raw)
        y, raw, theta, u = (_wide(a, xp) for a in (y, raw, theta, u))
        s = -_dual_ratio(theta, u)
        upper, finite = conjugate_upper(y, s, self.power)
        a, b = 2.0 - self.power, 1.0 - self.power
        positive = y > 0
        log_y = xp.log(xp.where(positive, y, xp.ones_like(y)))
        const = xp.where(positive, xp.exp(a * log_y), 0.0 * y) / abs(a * b)
        sizes = const + y * _exp(b * raw) / abs(b) + _exp(a * raw) / a
        eps = float(xp.finfo(raw.dtype).eps)
        margin = 4.0 * eps * (sizes + xp.abs(raw * s)) * (2.0 + xp.abs(raw))
        terms = self.pointwise(y, raw) + upper - raw * s + margin
        return _young_total(terms, finite, u)

    def pointwise(self, y, raw):
        """Return half the unit deviance of each sample."""
        xp = array_namespace(y, raw)
        p = self.power
        if p == 0:
            const = y * y
        else:
            # max(y, 0)**(2 - p), 0 at y = 0 (in the domain for p < 2).
            positive = y > 0
            log_y = xp.log(xp.where(positive, y, xp.ones_like(y)))
            const = xp.where(positive, xp.exp((2 - p) * log_y), 0.0)
        return (
            const / ((1 - p) * (2 - p))
            - y * _exp((1 - p) * raw) / (1 - p)
            + _exp((2 - p) * raw) / (2 - p)
        )

    def gradient(self, y, raw):
        """Return ``mu**(1 - p) * (mu - y)``."""
        p = self.power
        return _exp((2 - p) * raw) - y * _exp((1 - p) * raw)

    def hessian(self, y, raw):
        """Return ``(2 - p) mu**(2 - p) - (1 - p) y mu**(1 - p)``.

        Positive for ``1 <= p <= 2``; outside, where it would be negative, its
        absolute value (a positive-definite model keeps Newton's step a descent
        direction; the line search takes care of the rest).
        """
        xp = array_namespace(y, raw)
        p = self.power
        h = (2 - p) * _exp((2 - p) * raw) - (1 - p) * y * _exp((1 - p) * raw)
        return h if 1 <= p <= 2 else xp.abs(h)

    def curvature_between(self, y, raw_a, raw_b):
        """Return a bound on each sample's ``|L''|`` between ``raw_a`` and ``raw_b``.

        ``|L''| <= |2 - p| mu**(2 - p) + |1 - p| |y| mu**(1 - p)``, each term
        monotone in ``raw``, so largest at one end of the segment. ``"gd"``
        weighs its step test with it: the curvature along a step, read from the
        step's own predictions, in place of a global ``curvature_bound``.

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets.
        raw_a, raw_b : arrays of shape (n_samples,)
            The ends of the segment.

        Returns
        -------
        bound : array of shape (n_samples,)
            Non-negative.
        """
        xp = array_namespace(y, raw_a, raw_b)
        p = self.power
        hi = xp.where(raw_a > raw_b, raw_a, raw_b)
        lo = xp.where(raw_a > raw_b, raw_b, raw_a)
        first = abs(2 - p) * _exp((2 - p) * (hi if p < 2 else lo))
        return first + abs(1 - p) * xp.abs(y) * _exp((1 - p) * (lo if p > 1 else hi))

    def _check_exp_range(self, name, y_min, y_max, float_max):
        """Raise where a target's fitted mean needs an exponential past the cap.

        ``_exp`` caps its argument at a third of the largest exponent; at
        ``raw = log(y)`` past it the capped loss is unbounded below, and the
        solvers followed it (Poisson counts near 1e155 gave coefficients near
        1e55, reported converged). The fit in ``y / c`` is the same one, with
        the intercept lowered by ``log(c)``.
        """
        cap = math.log(float_max) / 3.0
        p = self.power
        for end in (y_max, y_min):
            if end > 0 and max((2 - p) * math.log(end), (1 - p) * math.log(end)) > cap:
                raise ValueError(
                    f"{name}: y holds {end:g}, beyond the targets whose mean "
                    f"exp(raw) this dtype's loss evaluates exactly (exp(raw) is "
                    f"capped at {math.exp(cap):.3g}): divide y by a constant c "
                    "(the fit is the same, its intercept lowered by log(c) and "
                    "alpha scaled by c**(p - 2)), or use float64 data."
                )

    def constant_fit(self, y, u):
        """Return ``log`` of the weighted mean of ``y``: the best constant ``raw``."""
        xp = array_namespace(y, u)
        mean = xp.sum(u * y)
        tiny = xp.finfo(y.dtype).smallest_normal
        return xp.log(xp.where(mean > tiny, mean, tiny + 0.0 * mean))

    def inverse_link(self, raw):
        """Return the mean ``exp(raw)``."""
        return array_namespace(raw).exp(raw)

    def check_targets(self, y_min, y_max, *, some_positive=True, float_max=None):
        """Raise a ValueError when targets leave the family's domain.

        Parameters
        ----------
        y_min, y_max : float
            The smallest and largest target.
        some_positive : bool, default=True
            Whether some target must be positive, as a fit needs (the log link
            has no finite fit of all-zero counts); one batch of a stream need not.
        float_max : float or None, default=None
            The largest number of the data's dtype: targets whose fitted
            exponentials would pass the cap of ``_exp`` are refused.
        """
        p = self.power
        name = f"{type(self).__name__}(power={p})"
        if float_max is not None:
            self._check_exp_range(name, y_min, y_max, float_max)
        if 1 <= p < 2 and y_min < 0:
            raise ValueError(
                f"{name} requires y >= 0 (and some y > 0); got min(y) = {y_min:g}."
            )
        if p >= 2 and y_min <= 0:
            raise ValueError(f"{name} requires y > 0; got min(y) = {y_min:g}.")
        if some_positive and p >= 1 and y_max <= 0:
            raise ValueError(
                f"{name} requires some y > 0 (all targets are zero): the log "
                "link has no finite fit."
            )
        if some_positive and p <= 0 and y_max <= 0:
            raise ValueError(
                f"{name} with the log link needs a positive mean: some y > 0."
            )


@dataclass(frozen=True)
class PoissonDeviance(TweedieDeviance):
    r"""Half the Poisson deviance of ``mu = exp(raw)``, PoissonRegressor's loss.

    .. math::

        L(y, f) = y \log(y / \mu) - y + \mu, \quad \mu = e^f

    (``0 log 0 = 0``), for counts or rates ``y >= 0``. Its derivative is
    :math:`\mu - y`, its second derivative :math:`\mu > 0`. Its convex conjugate
    in closed form, :math:`L^*(s) = v \log v - v - (y \log y - y)` with
    :math:`v = y + s \ge 0`, certifies fits with a duality gap.

    Examples
    --------
    The derivative at ``mu = 1`` is ``1 - y``, the curvature ``mu``:

    >>> import numpy as np
    >>> from skgd.losses import PoissonDeviance
    >>> loss, y, raw = PoissonDeviance(), np.array([0.0, 3.0]), np.zeros(2)
    >>> loss.pointwise(y, raw).round(4), loss.gradient(y, raw), loss.hessian(y, raw)
    (array([1.    , 1.2958]), array([ 1., -2.]), array([1., 1.]))
    """

    power: float = 1.0
    has_conjugate = True

    def pointwise(self, y, raw):
        """Return ``y log(y / mu) - y + mu``."""
        return _xlogx(y) - y * raw - y + _exp(raw)

    def gradient(self, y, raw):
        """Return ``mu - y``."""
        return _exp(raw) - y

    def hessian(self, y, raw):
        """Return ``mu``."""
        return _exp(raw)

    def dual_value(self, y, theta, u):
        """Return ``-sum_i u_i L_i^*(-theta_i / u_i)``; ``-inf`` off the domain.

        With ``v_i = y_i - theta_i / u_i`` (must be ``>= 0``), it is
        ``-sum_i u_i (v_i log v_i - v_i - y_i log y_i + y_i)``.
        """
        xp = array_namespace(y, theta)
        v = y - _dual_ratio(theta, u)
        value = -xp.sum(u * (_xlogx(v) - v - _xlogx(y) + y))
        return _infeasible_to_inf(value, v < 0)

    def fenchel_young_sum(self, y, raw, theta, u):
        """Return the loss's part of the gap as a sum of Fenchel-Young terms.

        See :meth:`TweedieDeviance.fenchel_young_sum`. With ``v = y + s`` and
        ``mu = exp(raw)``, each term is ``v log(v / mu) - v + mu >= 0``, 0
        where ``v = mu``; in float64 where the namespace has it.
        """
        xp = array_namespace(y, raw)
        y, raw, theta, u = (_wide(a, xp) for a in (y, raw, theta, u))
        v = y - _dual_ratio(theta, u)
        positive = v > 0
        log_v = xp.log(xp.where(positive, v, xp.ones_like(v)))
        terms = xp.where(positive, v * (log_v - raw), 0.0 * v) - v + _exp(raw)
        return _young_total(terms, v >= 0, u)


@dataclass(frozen=True)
class GammaDeviance(TweedieDeviance):
    r"""Half the Gamma deviance of ``mu = exp(raw)``, GammaRegressor's loss.

    .. math::

        L(y, f) = \log(\mu / y) + y / \mu - 1, \quad \mu = e^f,

    for ``y > 0``. Its derivative is :math:`1 - y / \mu`, its second derivative
    :math:`y / \mu > 0`. Its convex conjugate in closed form,
    :math:`L^*(s) = t \log(t / y) - t + \log y + 1` with :math:`t = 1 - s \ge 0`,
    certifies fits with a duality gap.

    Examples
    --------
    It is 0 where the mean fits, and depends on ``y / mu`` only:

    >>> import numpy as np
    >>> from skgd.losses import GammaDeviance
    >>> y = np.array([1.0, 2.0, 20.0])
    >>> GammaDeviance().pointwise(y, np.log([1.0, 1.0, 10.0])).round(6)
    array([0.      , 0.306853, 0.306853])
    """

    power: float = 2.0
    has_conjugate = True

    def pointwise(self, y, raw):
        """Return ``log(mu / y) + y / mu - 1``."""
        xp = array_namespace(y, raw)
        return raw - xp.log(y) + y * _exp(-raw) - 1.0

    def gradient(self, y, raw):
        """Return ``1 - y / mu``."""
        return 1.0 - y * _exp(-raw)

    def hessian(self, y, raw):
        """Return ``y / mu``."""
        return y * _exp(-raw)

    def dual_value(self, y, theta, u):
        """Return ``-sum_i u_i L_i^*(-theta_i / u_i)``; ``-inf`` off the domain.

        With ``t_i = 1 + theta_i / u_i`` (must be ``>= 0``), it is
        ``-sum_i u_i (t_i log(t_i / y_i) - t_i + log y_i + 1)``.
        """
        xp = array_namespace(y, theta)
        t = 1.0 + _dual_ratio(theta, u)
        log_y = xp.log(y)
        value = -xp.sum(u * (_xlogx(t) - t * log_y - t + log_y + 1.0))
        return _infeasible_to_inf(value, t < 0)

    def fenchel_young_sum(self, y, raw, theta, u):
        """Return the loss's part of the gap as a sum of Fenchel-Young terms.

        See :meth:`TweedieDeviance.fenchel_young_sum`. With ``t = 1 - s`` and
        ``q = y / mu``, each term is ``t log(t / q) - t + q >= 0``, 0 where
        ``t = q``; in float64 where the namespace has it.
        """
        xp = array_namespace(y, raw)
        y, raw, theta, u = (_wide(a, xp) for a in (y, raw, theta, u))
        t = 1.0 + _dual_ratio(theta, u)
        log_q = xp.log(y) - raw
        positive = t > 0
        log_t = xp.log(xp.where(positive, t, xp.ones_like(t)))
        terms = xp.where(positive, t * (log_t - log_q), 0.0 * t) - t + xp.exp(log_q)
        return _young_total(terms, t >= 0, u)
