# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The regression losses of SGDRegressor, with its definitions of ``epsilon``.

Formulas are those of the contract (``r = y - raw``). Only Array API standard functions
are used, so each loss runs on any array namespace.
"""

from dataclasses import dataclass

from skgd._backend._namespace import array_namespace
from skgd.losses._base import Loss


def _quadratic_dual(theta, u, scale):
    """Return ``sum_i scale * theta_i**2 / u_i`` (0 where ``u_i = 0``), 0-d."""
    xp = array_namespace(theta, u)
    safe = xp.where(u > 0, u, xp.ones_like(u))
    return xp.sum(xp.where(u > 0, scale * theta * theta / safe, 0.0 * u))


@dataclass(frozen=True)
class SquaredError(Loss):
    r"""Half the squared residual, :math:`L(y, f) = (y - f)^2 / 2`.

    Its derivative is :math:`f - y` and its curvature is exactly 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import SquaredError
    >>> SquaredError().pointwise(np.array([1.0, 2.0]), np.array([0.0, 0.0]))
    array([0.5, 2. ])
    """

    has_conjugate = True
    has_positive_curvature = True
    curvature_bound = 1.0
    is_quadratic = True

    def pointwise(self, y, raw):
        """Return ``(y - raw)**2 / 2``."""
        r = y - raw
        return 0.5 * (r * r)

    def gradient(self, y, raw):
        """Return ``raw - y``."""
        return raw - y

    def hessian(self, y, raw):
        """Return ones: the curvature is exactly 1."""
        return 0.0 * raw + 1.0

    def dual_value(self, y, theta, u):
        """Return ``sum_i theta_i y_i - theta_i**2 / (2 u_i)``."""
        xp = array_namespace(y, theta)
        return xp.sum(theta * y) - _quadratic_dual(theta, u, 0.5)


@dataclass(frozen=True)
class Huber(Loss):
    r"""Huber loss: quadratic for small residuals, linear beyond ``epsilon``.

    .. math::

        L(y, f) = \begin{cases} r^2/2 & |r| \le \epsilon \\
                  \epsilon |r| - \epsilon^2/2 & |r| > \epsilon \end{cases},
        \quad r = y - f.

    Its derivative is :math:`-\mathrm{clip}(r, -\epsilon, \epsilon)`, its curvature is
    at most 1.

    Parameters
    ----------
    epsilon : float, default=0.1
        Residual size where the loss turns linear (SGDRegressor's default).

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import Huber
    >>> Huber(epsilon=1.0).pointwise(np.array([0.5, 3.0]), np.array([0.0, 0.0]))
    array([0.125, 2.5  ])
    """

    has_conjugate = True
    epsilon: float = 0.1
    curvature_bound = 1.0

    def pointwise(self, y, raw):
        """Return the Huber loss of each residual."""
        xp = array_namespace(y, raw)
        a = xp.abs(y - raw)
        eps = self.epsilon
        return xp.where(a <= eps, 0.5 * (a * a), eps * a - 0.5 * eps * eps)

    def gradient(self, y, raw):
        """Return ``-clip(y - raw, -epsilon, epsilon)``."""
        xp = array_namespace(y, raw)
        return xp.clip(raw - y, -self.epsilon, self.epsilon)

    def hessian(self, y, raw):
        """Return 1 inside the quadratic zone ``|y - raw| <= epsilon``, else 0."""
        xp = array_namespace(y, raw)
        return xp.astype(xp.abs(raw - y) <= self.epsilon, raw.dtype)

    def dual_box(self):
        """Return ``epsilon``: the conjugate is finite for ``|theta_i| <= eps u_i``."""
        return self.epsilon

    def quadratic_dual_box(self, y, u):
        """Return ``(-eps u, eps u)``: the conjugate there is ``theta**2 / (2 u)``."""
        return -self.epsilon * u, self.epsilon * u

    def dual_value(self, y, theta, u):
        """Return ``sum_i theta_i y_i - theta_i**2 / (2 u_i)`` (inside the box)."""
        xp = array_namespace(y, theta)
        return xp.sum(theta * y) - _quadratic_dual(theta, u, 0.5)


@dataclass(frozen=True)
class EpsilonInsensitive(Loss):
    r"""Linear epsilon-insensitive loss, :math:`\max(0, |y - f| - \epsilon)`.

    It is not differentiable where :math:`|r| = \epsilon`; :meth:`gradient` returns the
    subgradient :math:`-\mathrm{sign}(r)` outside the tube and 0 inside.

    Parameters
    ----------
    epsilon : float, default=0.1
        Half-width of the tube inside which errors cost nothing.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import EpsilonInsensitive
    >>> EpsilonInsensitive(0.5).pointwise(np.array([0.2, 2.0]), np.array([0.0, 0.0]))
    array([0. , 1.5])
    """

    has_conjugate = True
    epsilon: float = 0.1
    is_smooth = False

    def pointwise(self, y, raw):
        """Return ``max(0, |y - raw| - epsilon)``."""
        xp = array_namespace(y, raw)
        return xp.clip(xp.abs(y - raw) - self.epsilon, 0.0, None)

    def gradient(self, y, raw):
        """Return the subgradient ``sign(raw - y)`` outside the tube, else 0."""
        xp = array_namespace(y, raw)
        d = raw - y
        return xp.where(xp.abs(d) > self.epsilon, xp.sign(d), xp.zeros_like(d))

    def dual_box(self):
        """Return 1: the conjugate is finite for ``|theta_i| <= u_i``."""
        return 1.0

    def dual_value(self, y, theta, u):
        """Return ``sum_i theta_i y_i - epsilon |theta_i|`` (inside the box)."""
        xp = array_namespace(y, theta)
        return xp.sum(theta * y - self.epsilon * xp.abs(theta))

    def smoothed(self, mu):
        """Return the Moreau envelope of width ``mu`` (see :meth:`Loss.smoothed`).

        It is a :class:`SmoothedEpsilonInsensitive`, within ``mu / 2`` of this loss,
        with curvature ``1 / mu``.
        """
        return SmoothedEpsilonInsensitive(epsilon=self.epsilon, mu=mu)


@dataclass(frozen=True)
class SmoothedEpsilonInsensitive(Loss):
    r"""Moreau envelope of the epsilon-insensitive loss, used by the full-batch solver.

    With :math:`a = |y - f| - \epsilon`, it is 0 for :math:`a \le 0`,
    :math:`a^2 / (2\mu)` for :math:`0 < a \le \mu` and :math:`a - \mu/2` beyond:
    below the true loss by at most :math:`\mu / 2`, with curvature :math:`1/\mu`.

    Parameters
    ----------
    epsilon : float, default=0.1
        Half-width of the tube.
    mu : float, default=1.0
        Smoothing width.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import EpsilonInsensitive
    >>> loss = EpsilonInsensitive(0.5).smoothed(1.0)
    >>> loss.pointwise(np.array([0.2, 1.0, 3.0]), np.zeros(3))
    array([0.   , 0.125, 2.   ])
    """

    has_conjugate = True
    epsilon: float = 0.1
    mu: float = 1.0

    @property
    def curvature_bound(self):
        """The curvature bound ``1 / mu``."""
        return 1.0 / self.mu

    def pointwise(self, y, raw):
        """Return the smoothed loss of each residual."""
        xp = array_namespace(y, raw)
        a = xp.clip(xp.abs(y - raw) - self.epsilon, 0.0, None)
        mu = self.mu
        return xp.where(a <= mu, a * a / (2.0 * mu), a - 0.5 * mu)

    def gradient(self, y, raw):
        """Return ``sign(raw - y) * clip(a / mu, 0, 1)``."""
        xp = array_namespace(y, raw)
        d = raw - y
        return xp.sign(d) * xp.clip((xp.abs(d) - self.epsilon) / self.mu, 0.0, 1.0)

    def hessian(self, y, raw):
        """Return ``1 / mu`` where ``0 < |y - raw| - epsilon < mu``, else 0."""
        xp = array_namespace(y, raw)
        a = xp.abs(raw - y) - self.epsilon
        return xp.astype((a > 0.0) & (a < self.mu), raw.dtype) / self.mu

    def dual_box(self):
        """Return 1: the conjugate is finite for ``|theta_i| <= u_i``."""
        return 1.0

    def dual_value(self, y, theta, u):
        """Return ``sum_i theta_i y_i - eps |theta_i| - mu theta_i**2 / (2 u_i)``."""
        xp = array_namespace(y, theta)
        return xp.sum(theta * y - self.epsilon * xp.abs(theta)) - _quadratic_dual(
            theta, u, 0.5 * self.mu
        )


@dataclass(frozen=True)
class SquaredEpsilonInsensitive(Loss):
    r"""Squared epsilon-insensitive loss, :math:`\max(0, |y - f| - \epsilon)^2`.

    As in SGDRegressor there is no factor 1/2, so the curvature is at most 2.

    Parameters
    ----------
    epsilon : float, default=0.1
        Half-width of the tube; a residual beyond it costs its squared excess.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import SquaredEpsilonInsensitive
    >>> loss = SquaredEpsilonInsensitive(0.5)
    >>> loss.pointwise(np.array([0.2, 2.0]), np.array([0.0, 0.0]))
    array([0.  , 2.25])
    """

    epsilon: float = 0.1
    curvature_bound = 2.0
    has_conjugate = True

    def pointwise(self, y, raw):
        """Return ``max(0, |y - raw| - epsilon)**2``."""
        xp = array_namespace(y, raw)
        z = xp.clip(xp.abs(y - raw) - self.epsilon, 0.0, None)
        return z * z

    def gradient(self, y, raw):
        """Return ``2 sign(raw - y) max(0, |y - raw| - epsilon)``."""
        xp = array_namespace(y, raw)
        d = raw - y
        return 2.0 * xp.sign(d) * xp.clip(xp.abs(d) - self.epsilon, 0.0, None)

    def hessian(self, y, raw):
        """Return 2 outside the tube ``|y - raw| > epsilon``, else 0."""
        xp = array_namespace(y, raw)
        return 2.0 * xp.astype(xp.abs(raw - y) > self.epsilon, raw.dtype)

    def dual_value(self, y, theta, u):
        """Return ``sum_i theta_i y_i - eps |theta_i| - theta_i**2 / (4 u_i)``."""
        xp = array_namespace(y, theta)
        return xp.sum(theta * y - self.epsilon * xp.abs(theta)) - _quadratic_dual(
            theta, u, 0.25
        )
