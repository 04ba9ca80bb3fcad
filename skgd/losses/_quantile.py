# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The pinball loss of quantile regression, and its Moreau envelopes.

``rho_q(r) = max(q r, (q - 1) r)`` of the residual ``r = y - f``, with
QuantileRegressor's meaning of ``q``. The full-batch solver minimises Moreau envelopes
of decreasing width and certifies the result with the duality gap of the pinball loss
itself: its conjugate is finite on the box ``(q - 1) u_i <= theta_i <= q u_i``, which
is not symmetric, so the dual point is centred and scaled into it by the loss (its
``balance_mix``), as for the classification losses. Only Array API standard functions
are used.
"""

from dataclasses import dataclass

from skgd._backend._namespace import array_namespace
from skgd.losses._base import Loss
from skgd.losses._regression import _quadratic_dual


class _BoxBalance:
    """Centre the dual point and scale it into the box ``[(q - 1) u_i, q u_i]``.

    ``theta = -u * gradient`` lies in the box (the gradient of the loss and of its
    envelopes is in ``[q - 1, q]``), but the intercept needs ``sum_i theta_i = 0``.
    Subtracting ``u s`` (``s = sum_i theta_i``) centres it, and a factor ``k`` in
    ``[0, 1]`` brings ``theta_i / u_i - s`` back into ``[q - 1, q]``: the mix
    ``k theta - k s u`` of :meth:`Loss.balance_mix` (no parts, no anchor), whose
    ``X_c.T`` is ``k X_c.T theta`` since ``X_c.T u = 0``. The factor needs only the
    extremes of ``theta_i / u_i``, so no second pass over the samples is made.
    """

    balanced_dual = True

    def balance_extremes(self, y, theta, u):
        """Return ``theta_i / u_i`` and its opposite (``-inf`` where ``u_i = 0``)."""
        xp = array_namespace(y, theta)
        safe = xp.where(u > 0, u, xp.ones_like(u))
        low = xp.full_like(u, -float("inf"))
        ratio = theta / safe
        return xp.where(u > 0, ratio, low), xp.where(u > 0, -ratio, low)

    def balance_mix(self, theta_sum, part_sums, anchor_sum, extremes):
        """Return the mix ``k theta - k s u`` that centres and scales ``theta``."""
        xp = array_namespace(theta_sum, *extremes)
        top, bottom = extremes  # max theta_i / u_i and max -theta_i / u_i
        tiny = xp.finfo(theta_sum.dtype).smallest_normal
        q = self.quantile
        k = xp.minimum(
            xp.minimum(
                q / xp.maximum(top - theta_sum, tiny),
                (1.0 - q) / xp.maximum(bottom + theta_sum, tiny),
            ),
            xp.ones_like(theta_sum),
        )
        return 1.0 - k, (), 0.0, -k * theta_sum


def _pinball(q, r):
    """Return ``max(q r, (q - 1) r)``, elementwise."""
    xp = array_namespace(r)
    return xp.maximum(q * r, (q - 1.0) * r)


@dataclass(frozen=True)
class Pinball(_BoxBalance, Loss):
    r"""Pinball loss of quantile regression, :math:`\max(q r, (q - 1) r)` of ``y - f``.

    Its minimiser over a constant is the ``q``-quantile of the targets, as in
    :class:`~sklearn.linear_model.QuantileRegressor`. It is not differentiable at
    :math:`r = 0`; :meth:`gradient` returns the subgradient :math:`-q` where
    :math:`r > 0` and :math:`1 - q` elsewhere. The full-batch solver minimises its
    Moreau envelopes (:meth:`smoothed`) of decreasing width, and certifies the fit
    with the duality gap of this loss: its conjugate gives the dual value
    :math:`\sum_i \theta_i y_i` on :math:`(q - 1) u_i \le \theta_i \le q u_i`.

    Parameters
    ----------
    quantile : float, default=0.5
        The quantile ``q`` that the model predicts, in ``(0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import Pinball
    >>> Pinball(quantile=0.9).pointwise(np.array([1.0, -1.0]), np.zeros(2))
    array([0.9, 0.1])
    """

    quantile: float = 0.5
    is_smooth = False
    has_conjugate = True

    def pointwise(self, y, raw):
        """Return ``max(q (y - raw), (q - 1) (y - raw))``."""
        return _pinball(self.quantile, y - raw)

    def gradient(self, y, raw):
        """Return the subgradient ``-q`` where ``y > raw``, else ``1 - q``."""
        xp = array_namespace(y, raw)
        return (1.0 - self.quantile) - xp.astype(y > raw, raw.dtype)

    def dual_value(self, y, theta, u):
        """Return ``sum_i theta_i y_i``, for ``(q - 1) u_i <= theta_i <= q u_i``."""
        xp = array_namespace(y, theta)
        return xp.sum(theta * y)

    def smoothed(self, mu):
        """Return the Moreau envelope of width ``mu`` (see :meth:`Loss.smoothed`).

        It is a :class:`SmoothedPinball` within ``mu / 2`` of this loss: the
        envelope of width ``mu / max(q, 1 - q)**2``, whose curvature is at most
        ``1 / mu``. (The slopes of the pinball loss are at most ``max(q, 1 - q)``,
        so a width of ``mu`` itself would err by less than ``mu / 2`` and the
        solver's stages, sized by ``mu``, would end too early.)
        """
        slope = max(self.quantile, 1.0 - self.quantile)
        return SmoothedPinball(quantile=self.quantile, mu=mu / (slope * slope))


@dataclass(frozen=True)
class SmoothedPinball(_BoxBalance, Loss):
    r"""Moreau envelope of the pinball loss, used by the full-batch solver.

    With ``r = y - f``: :math:`r^2 / (2\mu)` for :math:`(q - 1)\mu \le r \le q\mu`,
    :math:`q r - q^2 \mu / 2` above and :math:`(q - 1) r - (1 - q)^2 \mu / 2` below
    (a Huberized pinball loss). It lies below the pinball loss by at most
    :math:`\mu \max(q, 1 - q)^2 / 2`, with curvature :math:`1/\mu`; its conjugate is
    the pinball loss's plus :math:`\mu \theta_i^2 / (2 u_i)`.

    Parameters
    ----------
    quantile : float, default=0.5
        The quantile ``q``, in ``(0, 1)``.
    mu : float, default=1.0
        Smoothing width, positive: the quadratic zone is ``[(q - 1) mu, q mu]``
        and the curvature ``1 / mu``.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import SmoothedPinball
    >>> loss = SmoothedPinball(quantile=0.5, mu=1.0)
    >>> loss.pointwise(np.array([0.2, 1.0, -3.0]), np.zeros(3))
    array([0.02 , 0.375, 1.375])
    """

    quantile: float = 0.5
    mu: float = 1.0
    has_conjugate = True

    @property
    def curvature_bound(self):
        """The curvature bound ``1 / mu``."""
        return 1.0 / self.mu

    def pointwise(self, y, raw):
        """Return the Huberized pinball loss of each residual."""
        xp = array_namespace(y, raw)
        q, mu = self.quantile, self.mu
        r = y - raw
        inside = xp.clip(r, (q - 1.0) * mu, q * mu)
        # The envelope is the pinball loss of the part of r outside the quadratic
        # zone plus the quadratic of the part inside, whose slope matches at the
        # joins.
        return _pinball(q, r - inside) + inside * inside / (2.0 * mu)

    def gradient(self, y, raw):
        """Return ``-clip((y - raw) / mu, q - 1, q)``."""
        xp = array_namespace(y, raw)
        q = self.quantile
        return -xp.clip((y - raw) / self.mu, q - 1.0, q)

    def hessian(self, y, raw):
        """Return ``1 / mu`` where ``(q - 1) mu < y - raw < q mu``, else 0."""
        xp = array_namespace(y, raw)
        q, mu = self.quantile, self.mu
        r = y - raw
        return xp.astype((r > (q - 1.0) * mu) & (r < q * mu), raw.dtype) / mu

    def dual_value(self, y, theta, u):
        """Return ``sum_i theta_i y_i - mu theta_i**2 / (2 u_i)`` (inside the box)."""
        xp = array_namespace(y, theta)
        return xp.sum(theta * y) - _quadratic_dual(theta, u, 0.5 * self.mu)
