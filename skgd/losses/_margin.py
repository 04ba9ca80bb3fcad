# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""SGDClassifier's other margin losses: ``squared_hinge`` and ``perceptron``.

Both are losses of the margin ``z = y f`` on labels in {-1, +1}: the squared hinge
``max(0, 1 - z)**2``, smooth, fitted by every solver and certified by a duality gap;
the perceptron ``max(0, -z)``, whose unpenalized minimum is the zero model, fitted by
the stochastic solvers only (the full-batch ones refuse it, naming ``smoothed``).
"""

from dataclasses import dataclass

from skgd._backend._namespace import array_namespace
from skgd.losses._base import Loss
from skgd.losses._classification import _margin_share, _MarginBalance


@dataclass(frozen=True)
class SquaredHinge(_MarginBalance, Loss):
    r"""SGDClassifier's squared hinge, :math:`\max(0, 1 - y f)^2`, labels in {-1, +1}.

    Smooth, with curvature at most 2 (2 where :math:`y f < 1`, 0 beyond). Its
    conjugate gives the duality gap on ``s = y theta / u >= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import SquaredHinge
    >>> loss, y = SquaredHinge(), np.array([1.0, 1.0, -1.0])
    >>> loss.pointwise(y, np.array([2.0, 0.5, 3.0]))
    array([ 0.  ,  0.25, 16.  ])
    >>> loss.gradient(y, np.array([2.0, 0.5, 3.0]))
    array([-0., -1.,  8.])
    """

    balanced_dual = True
    has_conjugate = True
    curvature_bound = 2.0

    def pointwise(self, y, raw):
        """Return ``max(0, 1 - y raw)**2``."""
        xp = array_namespace(y, raw)
        hinge = xp.clip(1.0 - y * raw, 0.0, None)
        return hinge * hinge

    def gradient(self, y, raw):
        """Return ``-2 y max(0, 1 - y raw)``."""
        xp = array_namespace(y, raw)
        return -2.0 * y * xp.clip(1.0 - y * raw, 0.0, None)

    def hessian(self, y, raw):
        """Return 2 where ``y raw < 1``, else 0."""
        xp = array_namespace(y, raw)
        return 2.0 * xp.astype(y * raw < 1.0, raw.dtype)

    def dual_value(self, y, theta, u):
        """Return ``sum_i u_i (s - s**2 / 4)``, ``s = y theta / u >= 0``."""
        xp = array_namespace(y, theta)
        s = _margin_share(y, theta, u)
        return xp.sum(u * (s - 0.25 * s * s))


@dataclass(frozen=True)
class Perceptron(Loss):
    r"""The perceptron's loss, :math:`\max(0, -y f)`, labels in {-1, +1}.

    :meth:`gradient` returns SGDClassifier's subgradient, :math:`-y` where
    :math:`y f \le 0` and 0 elsewhere: a stochastic update on each misclassified
    sample. Its objective's minimum is the zero model (the loss is 0 there), so
    it is meant for ``"sgd"``; it provides no :meth:`smoothed`, and the full-batch
    solvers refuse it.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import Perceptron
    >>> y, raw = np.array([1.0, -1.0]), np.array([2.0, 0.5])
    >>> Perceptron().pointwise(y, raw), Perceptron().gradient(y, raw)
    (array([0. , 0.5]), array([0., 1.]))
    """

    is_smooth = False

    def pointwise(self, y, raw):
        """Return ``max(0, -y raw)``."""
        return array_namespace(y, raw).clip(-y * raw, 0.0, None)

    def gradient(self, y, raw):
        """Return the subgradient ``-y`` where ``y raw <= 0``, else 0."""
        xp, misclassified = array_namespace(y, raw), y * raw <= 0.0
        return xp.where(misclassified, -y, xp.zeros_like(raw))
