# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Step rules in the style of optax: an ``init``/``update`` pair over a flat vector.

``update(grad, state, eta)`` returns ``(direction, step, state)``; the minibatch solver
moves to ``prox(params - step * direction, step)``. The step is a scalar or one value
per coordinate (Adam), which the penalty's prox accepts either way. Rules never see the
data, the loss or the penalty, so adding one (RMSProp, say) touches no solver.
"""

import math
from dataclasses import dataclass

from array_api_compat import array_namespace


@dataclass(frozen=True)
class SGD:
    r"""Plain stochastic gradient: direction :math:`g`, step :math:`\eta`.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.optimizers import SGD
    >>> rule = SGD()
    >>> state = rule.init(np.zeros(2))
    >>> direction, step, state = rule.update(np.array([1.0, -2.0]), state, 0.1)
    >>> direction, step
    (array([ 1., -2.]), 0.1)
    """

    def init(self, params):
        """Return the (empty) state for parameters shaped like ``params``."""
        return ()

    def update(self, grad, state, eta):
        """Return ``(grad, eta, state)``."""
        return grad, eta, state


@dataclass(frozen=True)
class Momentum:
    r"""Heavy-ball or Nesterov momentum with a buffer in gradient units.

    .. math::

        m_t = \mu m_{t-1} + g_t, \qquad
        d_t = m_t \;\text{(heavy ball)} \quad\text{or}\quad
        d_t = g_t + \mu m_t \;\text{(Nesterov)},

    and the move is :math:`-\eta_t d_t`. With a constant step this is
    MLPRegressor's ``velocity = momentum * velocity - eta * g`` exactly; keeping the
    buffer in gradient units (as PyTorch does) makes a decaying schedule shrink the
    whole move, not only its newest term.

    The move is returned as direction :math:`(1 - \mu) d_t` (an average of
    gradients) times step :math:`\eta_t / (1 - \mu)`, the move per unit of a
    steady gradient. A prox applied with that step has the optimum as its fixed
    point: with the raw :math:`\eta_t` the momentum, ``1 / (1 - mu)`` times the
    gradient, would push coordinates out of the L1 dead zone they belong in.

    Parameters
    ----------
    momentum : float, default=0.9
        The factor :math:`\mu`, in ``[0, 1]``.
    nesterov : bool, default=False
        Whether to use Nesterov's look-ahead form.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.optimizers import Momentum
    >>> rule = Momentum(momentum=0.5)
    >>> state = rule.init(np.zeros(1))
    >>> d, step, state = rule.update(np.array([1.0]), state, 0.1)
    >>> d, step, state = rule.update(np.array([1.0]), state, 0.1)
    >>> d * step  # the buffer is 1 + 0.5 * 1
    array([0.15])
    """

    momentum: float = 0.9
    nesterov: bool = False

    def init(self, params):
        """Return a zero momentum buffer shaped like ``params``."""
        return (array_namespace(params).zeros_like(params),)

    def update(self, grad, state, eta):
        """Return the momentum direction, the step ``eta`` and the new buffer."""
        (buf,) = state
        mu = self.momentum
        buf = mu * buf + grad
        direction = grad + mu * buf if self.nesterov else buf
        if mu >= 1.0:
            return direction, eta, (buf,)
        return (1.0 - mu) * direction, eta / (1.0 - mu), (buf,)


@dataclass(frozen=True)
class Adam:
    r"""Adam with MLPRegressor's bias correction.

    .. math::

        m_k = \beta_1 m_{k-1} + (1 - \beta_1) g, \quad
        v_k = \beta_2 v_{k-1} + (1 - \beta_2) g^2, \\
        \text{direction } m_k, \quad \text{step }
        \eta \frac{\sqrt{1 - \beta_2^k}}{(1 - \beta_1^k)(\sqrt{v_k} + \varepsilon)}
        \text{ per coordinate}.

    The per-coordinate step makes a penalty's prox a proximal Adam step (Yun et al.),
    so L1 still gives exact zeros.

    Parameters
    ----------
    beta_1 : float, default=0.9
        Decay of the first moment, in ``[0, 1)``.
    beta_2 : float, default=0.999
        Decay of the second moment, in ``[0, 1)``.
    eps : float, default=1e-8
        Added to :math:`\sqrt{v}` for stability, positive (``adam_eps``).
    scale : float, default=1.0
        The units of the parameters, positive: the rule is Adam on the parameters
        divided by ``scale``, mapped back. As Adam's direction does not depend on
        the gradient's scale, that is Adam with the step ``scale * eta`` and the
        stability constant ``scale * eps``: a move of about ``scale * eta`` per
        coordinate, whatever the units of the problem (a regression's target).

    References
    ----------
    D. P. Kingma and J. Ba, "Adam: A method for stochastic optimization", ICLR 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.optimizers import Adam
    >>> rule = Adam()
    >>> state = rule.init(np.zeros(2))
    >>> d, step, state = rule.update(np.array([2.0, -0.5]), state, 0.001)
    >>> np.round(d * step, 6)  # the first move has size eta in every coordinate
    array([ 0.001, -0.001])
    """

    beta_1: float = 0.9
    beta_2: float = 0.999
    eps: float = 1e-8
    scale: float = 1.0

    def init(self, params):
        """Return ``(k, m, v)``: the update count and zero moments."""
        xp = array_namespace(params)
        return (0, xp.zeros_like(params), xp.zeros_like(params))

    def update(self, grad, state, eta):
        """Return the first moment, the per-coordinate step and the new state."""
        k, m, v = state
        k += 1
        m = self.beta_1 * m + (1.0 - self.beta_1) * grad
        v = self.beta_2 * v + (1.0 - self.beta_2) * (grad * grad)
        lr = eta * math.sqrt(1.0 - self.beta_2**k) / (1.0 - self.beta_1**k)
        # (v ** 0.5 is sqrt(v), in numpy bit for bit, with no namespace lookup
        # per update: the rule runs once per batch of a stream.)
        step = (self.scale * lr) / (v**0.5 + self.scale * self.eps)
        return m, step, (k, m, v)


def sgd(momentum=0.0, nesterov=False):
    """Return the step rule of ``solver="sgd"``: plain, heavy-ball or Nesterov.

    Parameters
    ----------
    momentum : float, default=0.0
        Momentum factor in ``[0, 1]``; 0 gives plain SGD.
    nesterov : bool, default=False
        Nesterov's form of momentum (only used when ``momentum > 0``).

    Returns
    -------
    rule : SGD or Momentum
        The rule.

    Examples
    --------
    >>> from skgd.optimizers import sgd
    >>> sgd(), sgd(momentum=0.9, nesterov=True)
    (SGD(), Momentum(momentum=0.9, nesterov=True))
    """
    if momentum > 0:
        return Momentum(momentum=momentum, nesterov=nesterov)
    return SGD()


def adam(beta_1=0.9, beta_2=0.999, eps=1e-8):
    """Return the Adam step rule of ``solver="adam"``.

    Parameters
    ----------
    beta_1 : float, default=0.9
        Decay of the first moment.
    beta_2 : float, default=0.999
        Decay of the second moment.
    eps : float, default=1e-8
        Stability constant (the estimator's ``adam_eps``).

    Returns
    -------
    rule : Adam
        The rule.

    Examples
    --------
    >>> from skgd.optimizers import adam
    >>> adam(beta_2=0.99)
    Adam(beta_1=0.9, beta_2=0.99, eps=1e-08, scale=1.0)
    """
    return Adam(beta_1=beta_1, beta_2=beta_2, eps=eps)
