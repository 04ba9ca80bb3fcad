# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Separable penalties: none, L1, L2 and the elastic net, with closed-form proxes.

All are one family, ``alpha * (l1_ratio ||w||_1 + (1 - l1_ratio) / 2 ||w||_2^2)``; the
classes differ only in how their strengths are given.
"""

import math
from dataclasses import dataclass

from array_api_compat import array_namespace

from skgd.penalties._base import Penalty


class _ElasticNetFamily(Penalty):
    """Shared maths of ``l1 ||w||_1 + l2 / 2 ||w||_2^2`` given ``l1`` and ``l2``."""

    @property
    def l1(self):
        """Strength of the L1 term."""
        raise NotImplementedError

    @property
    def l2(self):
        """Strength of the squared-L2 term."""
        raise NotImplementedError

    def elastic_net_weights(self):
        """Return ``(l1, l2)``: every penalty of the family is an elastic net."""
        return float(self.l1), float(self.l2)

    def value(self, w):
        """Return ``l1 ||w||_1 + l2 / 2 ||w||_2^2``."""
        xp = array_namespace(w)
        out = 0.0 * xp.sum(w)  # a 0-d zero of w's dtype, namespace and device
        if self.l1:
            out = out + self.l1 * xp.sum(xp.abs(w))
        if self.l2:
            out = out + 0.5 * self.l2 * xp.sum(w * w)
        return out

    def prox(self, v, step):
        """Soft-threshold by ``step * l1``, then shrink by ``1 + step * l2``."""
        xp = array_namespace(v)
        w = v
        if self.l1:
            # Soft-threshold as v - clip(v, -t, t), with elementwise max/min: the
            # cheapest form in every namespace (this runs once per iteration).
            t = step * self.l1
            w = v - xp.minimum(xp.maximum(v, -t), t)
        if self.l2:
            w = w / (1.0 + step * self.l2)
        return w

    def conjugate(self, v):
        """Return ``sum_j max(|v_j| - l1, 0)**2 / (2 l2)``, or the L1 ball indicator."""
        xp = array_namespace(v)
        excess = xp.maximum(xp.abs(v) - self.l1, 0.0)
        if self.l2:
            return float(xp.sum(excess * excess)) / (2.0 * self.l2)
        # Pure L1: the conjugate is the indicator of the ball ||v||_inf <= l1; allow the
        # rounding of the scaling that put v there (a few ulps of v's dtype: 1e-12
        # is below float32's rounding, and made a third of float32 gaps infinite).
        slack = max(1e-12, 16.0 * float(xp.finfo(v.dtype).eps))
        return 0.0 if float(xp.max(excess)) <= slack * self.l1 else math.inf

    def fenchel_young(self, w, v):
        """Return ``h(w) + h*(v) - w.v`` as a sum of non-negative coordinate terms.

        With ``t = sign(w) v - l1`` and ``z = max(|v| - l1, 0)``, a coordinate's term
        is ``(l2 |w| - t)**2 / (2 l2)`` where ``w != 0`` and ``t >= 0``, and
        ``-|w| t + l2 w**2 / 2 + z**2 / (2 l2)`` otherwise (every part non-negative):
        no cancellation between large quantities, so the gap stays accurate far below
        the rounding level of the objective.
        """
        xp = array_namespace(w, v)
        absw = xp.abs(w)
        # sign(w) v - l1 (where w == 0 the value is unused: |w| or the mask kill it)
        t = xp.where(w > 0, v, -v) - self.l1
        if not self.l2:
            if math.isinf(self.conjugate(v)):
                return math.inf
            return float(xp.sum(absw * xp.maximum(-t, 0.0)))
        l2 = self.l2
        z = xp.maximum(xp.abs(v) - self.l1, 0.0)
        on = (w != 0) & (t >= 0)
        diff = l2 * absw - t
        term = xp.where(
            on,
            diff * diff / (2.0 * l2),
            absw * xp.maximum(-t, 0.0) + 0.5 * l2 * absw * absw + z * z / (2.0 * l2),
        )
        return float(xp.sum(term))

    def dual_scale(self, v):
        """Return 1 when ``l2 > 0``; ``min(1, l1 / ||v||_inf)`` for pure L1."""
        if self.l2:
            return 1.0
        if not self.l1:
            return None
        xp = array_namespace(v)
        vmax = float(xp.max(xp.abs(v))) if v.shape[0] else 0.0
        return 1.0 if vmax <= self.l1 else self.l1 / vmax


@dataclass(frozen=True)
class NoPenalty(_ElasticNetFamily):
    """No penalty, ``h(w) = 0``: ordinary (robust) regression.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.penalties import NoPenalty
    >>> NoPenalty().prox(np.array([-2.0, 0.5]), 1.0)
    array([-2. ,  0.5])
    """

    l1 = 0.0
    l2 = 0.0


@dataclass(frozen=True)
class L1(_ElasticNetFamily):
    r"""Lasso penalty, :math:`\alpha \|w\|_1`.

    Its prox is the soft-threshold :math:`\mathrm{sign}(v) \max(|v| - \eta\alpha, 0)`,
    which gives exact zeros.

    Parameters
    ----------
    alpha : float, default=1e-4
        Strength of the penalty.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.penalties import L1
    >>> L1(alpha=1.0).prox(np.array([-2.0, 0.5]), 1.0)
    array([-1.,  0.])
    """

    alpha: float = 1e-4

    @property
    def l1(self):
        """Strength of the L1 term: ``alpha``."""
        return self.alpha

    l2 = 0.0


@dataclass(frozen=True)
class L2(_ElasticNetFamily):
    r"""Ridge penalty, :math:`\frac{\alpha}{2} \|w\|_2^2`.

    Its prox is the shrinkage :math:`v / (1 + \eta\alpha)`, and a problem with
    this penalty alone and the squared loss is solved in closed form.

    Parameters
    ----------
    alpha : float, default=1e-4
        Strength of the penalty (the weight of the squared norm over 2).

    Examples
    --------
    >>> from skgd.penalties import L2
    >>> L2(alpha=2.0).elastic_net_weights()
    (0.0, 2.0)
    """

    alpha: float = 1e-4
    l1 = 0.0

    @property
    def l2(self):
        """Strength of the squared-L2 term: ``alpha``."""
        return self.alpha


@dataclass(frozen=True)
class L1L2(_ElasticNetFamily):
    r"""Elastic-net penalty.

    .. math::

        \alpha \left(\rho \|w\|_1 + \frac{1 - \rho}{2} \|w\|_2^2\right),
        \quad \rho = \text{l1\_ratio}.

    Its prox soft-thresholds by :math:`\eta\alpha\rho`, then shrinks by
    :math:`1 + \eta\alpha(1 - \rho)`.

    Parameters
    ----------
    alpha : float, default=1e-4
        Overall strength.
    l1_ratio : float, default=0.15
        Share of the L1 term, in [0, 1] (SGDRegressor's default).

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.penalties import L1L2
    >>> L1L2(alpha=2.0, l1_ratio=0.5).prox(np.array([-2.0, 0.5]), 1.0)
    array([-0.5,  0. ])
    """

    alpha: float = 1e-4
    l1_ratio: float = 0.15

    @property
    def l1(self):
        """Strength of the L1 term: ``alpha * l1_ratio``."""
        return self.alpha * self.l1_ratio

    @property
    def l2(self):
        """Strength of the squared-L2 term: ``alpha * (1 - l1_ratio)``."""
        return self.alpha * (1.0 - self.l1_ratio)
