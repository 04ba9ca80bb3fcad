# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Classification losses: binary ones on labels in {-1, +1}, and the multinomial one.

The binary losses are SGDClassifier's (``z = y f``): ``log_loss``
``log(1 + exp(-z))``, ``hinge`` ``max(0, 1 - z)`` and ``modified_huber``
``max(0, 1 - z)**2`` for ``z >= -1``, ``-4 z`` below. The multinomial log loss is
LogisticRegression's softmax cross-entropy of ``K`` linear predictions per sample, on
labels coded ``0 .. K - 1``. Only Array API standard functions are used.
"""

import math
import sys
from dataclasses import dataclass

from array_api_compat import device

from skgd._backend._namespace import array_namespace
from skgd.losses._base import Loss
from skgd.losses._regression import _quadratic_dual

# The smallest normal float64 (numpy's smallest_normal, sys.float_info.min).
_TINY64 = sys.float_info.min


class _MarginBalance:
    """Balance a binary loss's dual point by scaling down one class.

    ``s_i = y_i theta_i / u_i`` lies in the conjugate's domain ``[0, m]``, and
    scaling by a factor in ``[0, 1]`` keeps it there, unlike subtracting the mean:
    the class whose dual variables sum to more (in absolute value) is scaled down
    until ``sum(theta) = 0``. As a mix (see :meth:`Loss.balance_parts`): ``theta``
    times the negative class's factor, plus the positive class's part times the
    difference of the factors.
    """

    def balance_parts(self, y, theta):
        """Return ``theta`` on the positive class (0 elsewhere)."""
        xp = array_namespace(y, theta)
        return (xp.where(y > 0, theta, xp.zeros_like(theta)),)

    def balance_mix(self, theta_sum, part_sums, anchor_sum, extremes):
        """Return the mix that scales the larger class down to ``sum = 0``."""
        pos = part_sums[0]
        neg = pos - theta_sum  # minus the negative class's sum
        if isinstance(theta_sum, float) and isinstance(pos, float):
            # numpy's float64 sums are Python floats: the same operations in
            # Python, without a ufunc call on each scalar.
            down_pos = min(max(neg / max(pos, _TINY64), 0.0), 1.0)
            down_neg = min(max(pos / max(neg, _TINY64), 0.0), 1.0)
            return 1.0 - down_neg, (down_pos - down_neg,), 0.0, 0.0
        xp = array_namespace(theta_sum, pos)
        tiny = xp.finfo(theta_sum.dtype).smallest_normal
        down_pos = xp.clip(neg / xp.maximum(pos, tiny), 0.0, 1.0)
        down_neg = xp.clip(pos / xp.maximum(neg, tiny), 0.0, 1.0)
        return 1.0 - down_neg, (down_pos - down_neg,), 0.0, 0.0


def _margin_share(y, theta, u):
    """Return ``s_i = y_i theta_i / u_i`` (0 where ``u_i = 0``)."""
    xp = array_namespace(y, theta)
    safe = xp.where(u > 0, u, xp.ones_like(u))
    return xp.where(u > 0, y * theta / safe, xp.zeros_like(u))


# Up to this many classes, reductions over the class axis are written as
# elementwise operations on its columns (see _row_reduce).
_FEW_CLASSES = 16


def _row_reduce(xp, a, op, reduce):
    """Return ``op`` folded over the columns of a ``(n, K)`` array: one per row.

    numpy reduces a short last axis row by row: ``max(axis=1)`` of 20,000 x 5 takes
    ten times an elementwise pass over the same array. For few classes K
    elementwise operations on columns do the same work; they also accept a Dask
    chunk of zero rows, which ``max(axis=1)`` rejects. ``reduce`` (``xp.max``,
    ``xp.sum``) serves many classes.
    """
    if a.shape[1] > _FEW_CLASSES:
        return reduce(a, axis=1)
    out = a[:, 0]
    for k in range(1, a.shape[1]):
        out = op(out, a[:, k])
    return out


def _row_max(xp, a):
    """Return the maximum of each row of ``a`` (see :func:`_row_reduce`)."""
    return _row_reduce(xp, a, xp.maximum, xp.max)


def _row_sum(xp, a):
    """Return the sum of each row of ``a`` (see :func:`_row_reduce`)."""
    return _row_reduce(xp, a, lambda x, z: x + z, xp.sum)


def _xlogx(xp, x):
    """Return ``x log x`` for ``x >= 0``, with ``0 log 0 = 0``.

    ``x log max(x, tiny)``: 0 at 0 (a finite log times zero), and no ``where``
    (which costs four elementwise passes here).
    """
    return x * xp.log(xp.maximum(x, xp.finfo(x.dtype).smallest_normal))


def _sigmoid(xp, z):
    """Return ``1 / (1 + exp(-z))`` without overflow for large ``|z|``."""
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@dataclass(frozen=True)
class LogLoss(_MarginBalance, Loss):
    r"""Binary cross-entropy of the logit ``f``, :math:`\log(1 + e^{-y f})`.

    Labels are ``-1`` and ``+1``; the probability of ``+1`` is the sigmoid of ``f``.
    Its derivative is :math:`-y\,\sigma(-y f)` and its curvature at most 1/4.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import LogLoss
    >>> LogLoss().pointwise(np.array([1.0, -1.0]), np.array([0.0, 0.0]))
    array([0.69314718, 0.69314718])
    """

    curvature_bound = 0.25
    has_conjugate = True
    has_positive_curvature = True
    balanced_dual = True

    def pointwise(self, y, raw):
        """Return ``log(1 + exp(-y raw))``."""
        xp = array_namespace(y, raw)
        z = -y * raw
        # logaddexp(0, z) by its own formula, max(z, 0) + log1p(exp(-|z|)), on
        # numpy's vectorized exp and log1p: 24 us against 91 us on 5,000 samples,
        # a few times a Newton step (the two differ by an ulp on 5% of samples).
        return xp.maximum(z, xp.zeros_like(z)) + xp.log1p(xp.exp(-xp.abs(z)))

    def gradient(self, y, raw):
        """Return ``-y sigmoid(-y raw)``."""
        xp = array_namespace(y, raw)
        return -y * _sigmoid(xp, -y * raw)

    def hessian(self, y, raw):
        """Return ``sigmoid(raw) (1 - sigmoid(raw))``, at most 1/4."""
        xp = array_namespace(y, raw)
        # As e / (1 + e)**2 with e = exp(-|raw|): no cancellation in 1 - p.
        e = xp.exp(-xp.abs(raw))
        return e / ((1.0 + e) * (1.0 + e))

    def dual_value(self, y, theta, u):
        """Return ``-sum_i u_i (s log s + (1 - s) log(1 - s))``, ``s = y theta / u``."""
        xp = array_namespace(y, theta)
        # Not _margin_share's second where: a sample with u_i = 0 has theta_i = 0,
        # and its term, u_i times a finite number after the clip, is zero anyway.
        s = xp.clip(y * theta / xp.where(u > 0, u, xp.ones_like(u)), 0.0, 1.0)
        r = 1.0 - s
        tiny = xp.finfo(s.dtype).smallest_normal  # (_xlogx, with one lookup)
        return -xp.sum(
            u * (s * xp.log(xp.maximum(s, tiny)) + r * xp.log(xp.maximum(r, tiny)))
        )

    def constant_fit(self, y, u):
        """Return the optimal constant logit: the log-odds of the weighted labels."""
        xp = array_namespace(y, u)
        p = xp.sum(u * xp.astype(y > 0, u.dtype))
        return _log_odds(xp, p, u.dtype)

    def inverse_link(self, raw):
        """Return the probability of the positive class, ``sigmoid(raw)``."""
        return _sigmoid(array_namespace(raw), raw)


def _log_odds(xp, p, dtype):
    """Return ``log(p / (1 - p))`` with ``p`` kept off 0 and 1 (a 0-d array)."""
    tiny = float(xp.finfo(dtype).eps)
    p = xp.clip(p, tiny, 1.0 - tiny)
    return xp.log(p) - xp.log(1.0 - p)


@dataclass(frozen=True)
class Hinge(_MarginBalance, Loss):
    r"""Hinge loss of the linear SVM, :math:`\max(0, 1 - y f)`, labels in {-1, +1}.

    It is not differentiable at :math:`y f = 1`; :meth:`gradient` returns the
    subgradient :math:`-y` where :math:`y f < 1` and 0 elsewhere. The full-batch
    solver minimises its Moreau envelopes (:meth:`smoothed`) of decreasing width.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import Hinge
    >>> Hinge().pointwise(np.array([1.0, -1.0]), np.array([2.0, 0.5]))
    array([0. , 1.5])
    """

    is_smooth = False
    has_conjugate = True
    balanced_dual = True

    def pointwise(self, y, raw):
        """Return ``max(0, 1 - y raw)``."""
        xp = array_namespace(y, raw)
        return xp.clip(1.0 - y * raw, 0.0, None)

    def gradient(self, y, raw):
        """Return the subgradient ``-y`` where ``y raw < 1``, else 0."""
        xp = array_namespace(y, raw)
        return xp.where(y * raw < 1.0, -y, xp.zeros_like(raw))

    def dual_value(self, y, theta, u):
        """Return ``sum_i y_i theta_i``, for ``0 <= y_i theta_i <= u_i``."""
        xp = array_namespace(y, theta)
        return xp.sum(y * theta)

    def smoothed(self, mu):
        """Return the Moreau envelope of width ``mu`` (see :meth:`Loss.smoothed`).

        It is a :class:`SmoothedHinge`, within ``mu / 2`` of this loss, with
        curvature ``1 / mu``.
        """
        return SmoothedHinge(mu=mu)


@dataclass(frozen=True)
class SmoothedHinge(_MarginBalance, Loss):
    r"""Moreau envelope of the hinge loss, used by the full-batch solver.

    With :math:`a = 1 - y f`, it is 0 for :math:`a \le 0`, :math:`a^2 / (2\mu)` for
    :math:`0 < a \le \mu` and :math:`a - \mu/2` beyond: below the hinge by at most
    :math:`\mu / 2`, with curvature :math:`1/\mu`.

    Parameters
    ----------
    mu : float, default=1.0
        Smoothing width.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import Hinge
    >>> Hinge().smoothed(1.0).pointwise(np.ones(3), np.array([2.0, 0.5, -1.0]))
    array([0.   , 0.125, 1.5  ])
    """

    mu: float = 1.0
    has_conjugate = True
    balanced_dual = True

    @property
    def curvature_bound(self):
        """The curvature bound ``1 / mu``."""
        return 1.0 / self.mu

    def dual_value(self, y, theta, u):
        """Return ``sum_i y_i theta_i - mu theta_i**2 / (2 u_i)``, y theta in [0, u]."""
        xp = array_namespace(y, theta)
        return xp.sum(y * theta) - _quadratic_dual(theta, u, 0.5 * self.mu)

    def pointwise(self, y, raw):
        """Return the smoothed hinge of each margin."""
        xp = array_namespace(y, raw)
        a = xp.clip(1.0 - y * raw, 0.0, None)
        mu = self.mu
        return xp.where(a <= mu, a * a / (2.0 * mu), a - 0.5 * mu)

    def gradient(self, y, raw):
        """Return ``-y clip((1 - y raw) / mu, 0, 1)``."""
        xp = array_namespace(y, raw)
        return -y * xp.clip((1.0 - y * raw) / self.mu, 0.0, 1.0)

    def hessian(self, y, raw):
        """Return ``1 / mu`` where ``0 < 1 - y raw < mu``, else 0."""
        xp = array_namespace(y, raw)
        a = 1.0 - y * raw
        return xp.astype((a > 0.0) & (a < self.mu), raw.dtype) / self.mu


@dataclass(frozen=True)
class ModifiedHuber(_MarginBalance, Loss):
    r"""SGDClassifier's modified Huber loss, labels in {-1, +1}, ``z = y f``.

    .. math::

        L = \begin{cases} \max(0, 1 - z)^2 & z \ge -1 \\ -4 z & z < -1 \end{cases}

    It is smooth, with curvature at most 2, and yields probability estimates
    ``(clip(f, -1, 1) + 1) / 2``.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import ModifiedHuber
    >>> ModifiedHuber().pointwise(np.ones(3), np.array([2.0, 0.5, -3.0]))
    array([ 0.  ,  0.25, 12.  ])
    """

    curvature_bound = 2.0
    has_conjugate = True
    balanced_dual = True

    def pointwise(self, y, raw):
        """Return the modified Huber loss of each margin."""
        xp = array_namespace(y, raw)
        z = y * raw
        hinge = xp.clip(1.0 - z, 0.0, None)
        return xp.where(z >= -1.0, hinge * hinge, -4.0 * z)

    def gradient(self, y, raw):
        """Return ``-y * 2 max(0, 1 - z)`` for ``z >= -1`` and ``-4 y`` below."""
        xp = array_namespace(y, raw)
        z = y * raw
        slope = xp.where(z >= -1.0, 2.0 * xp.clip(1.0 - z, 0.0, None), 4.0 + 0.0 * z)
        return -y * slope

    def hessian(self, y, raw):
        """Return 2 where ``-1 <= y raw < 1`` (the quadratic zone), else 0."""
        xp = array_namespace(y, raw)
        z = y * raw
        return 2.0 * xp.astype((z >= -1.0) & (z < 1.0), raw.dtype)

    def quadratic_dual_box(self, y, u):
        """Return the box ``y theta / u`` in ``[0, 4]``, where it is quadratic."""
        xp = array_namespace(y, u)
        edge = 4.0 * y * u
        return xp.minimum(edge, 0.0), xp.maximum(edge, 0.0)

    def dual_value(self, y, theta, u):
        """Return ``sum_i u_i (s - s**2 / 4)``, ``s = y theta / u`` in ``[0, 4]``."""
        xp = array_namespace(y, theta)
        s = _margin_share(y, theta, u)
        return xp.sum(u * (s - 0.25 * s * s))

    def inverse_link(self, raw):
        """Return the probability estimate ``(clip(raw, -1, 1) + 1) / 2``."""
        xp = array_namespace(raw)
        return (xp.clip(raw, -1.0, 1.0) + 1.0) / 2.0


@dataclass(frozen=True)
class MultinomialLogLoss(Loss):
    r"""Softmax cross-entropy of ``K`` logits per sample (LogisticRegression's).

    .. math::

        L(y, f) = \log \sum_k e^{f_k} - f_y,

    with ``y`` a class index in ``0 .. K - 1`` (stored as a float) and ``f`` a row
    of ``raw``, of shape ``(n_samples, K)``. Its gradient is ``softmax(f) - onehot(y)``
    and its Hessian ``diag(p) - p p^T`` has eigenvalues at most 1/2.

    Parameters
    ----------
    n_classes : int, default=3
        Number of classes ``K``: the loss has ``K`` outputs per sample.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.losses import MultinomialLogLoss
    >>> loss = MultinomialLogLoss(n_classes=3)
    >>> loss.pointwise(np.array([0.0, 2.0]), np.zeros((2, 3)))
    array([1.09861229, 1.09861229])
    """

    n_classes: int = 3
    curvature_bound = 0.5
    has_conjugate = True
    balanced_dual = True

    @property
    def n_outputs(self):
        """The number of linear predictions per sample, ``n_classes``."""
        return self.n_classes

    def _onehot(self, xp, y, like):
        classes = xp.arange(self.n_classes, dtype=like.dtype, device=device(like))
        return xp.astype(y[:, None] == classes[None, :], like.dtype)

    def pointwise(self, y, raw):
        """Return ``logsumexp(raw_i) - raw_i[y_i]`` for each row."""
        xp = array_namespace(y, raw)
        shifted = raw - _row_max(xp, raw)[:, None]
        lse = xp.log(_row_sum(xp, xp.exp(shifted)))
        return lse - _row_sum(xp, shifted * self._onehot(xp, y, raw))

    def gradient(self, y, raw):
        """Return ``softmax(raw) - onehot(y)``, of shape ``(n_samples, K)``."""
        xp = array_namespace(y, raw)
        return self.inverse_link(raw) - self._onehot(xp, y, raw)

    def loss_gradient(self, y, raw):
        """Return ``(pointwise(y, raw), gradient(y, raw))`` from one softmax.

        What a full-batch evaluation needs, for the price of one of the two: one
        exponential of ``raw`` serves the log-sum-exp and the probabilities, which
        are then made in place, and the labels' logits are gathered, not multiplied
        by a one-hot matrix: on numpy (20,000 x 5, one thread) it takes a third to
        a half of the time of the two methods, about that of scikit-learn's compiled
        ``HalfMultinomialLoss.loss_gradient``. The dtype of ``raw`` is kept.

        Parameters
        ----------
        y : array of shape (n_samples,)
            Class indices (as floats).
        raw : array of shape (n_samples, n_classes)
            Logits.

        Returns
        -------
        values : array of shape (n_samples,)
            The loss of each row.
        gradient : array of shape (n_samples, n_classes)
            ``softmax(raw) - onehot(y)``, a new array.
        """
        xp = array_namespace(y, raw)
        shifted = raw - _row_max(xp, raw)[:, None]
        labels = xp.astype(y, xp.int64)[:, None]
        picked = xp.take_along_axis(shifted, labels, axis=1)[:, 0]
        probabilities = xp.exp(shifted)
        total = _row_sum(xp, probabilities)
        probabilities /= total[:, None]
        probabilities -= self._onehot(xp, y, raw)
        return xp.log(total) - picked, probabilities

    def _dual_probabilities(self, xp, y, theta, u):
        """Return ``q_i = onehot(y_i) - theta_i / u_i`` (``onehot`` where u_i = 0).

        Rows with ``u_i = 0`` have ``theta_i = 0`` (see :meth:`Loss.dual_value`), so
        dividing them by 1 instead leaves ``onehot``.
        """
        safe = xp.where(u > 0, u, xp.ones_like(u))[:, None]
        return self._onehot(xp, y, theta) - theta / safe

    def balance_anchor(self, y, u):
        """Return ``u onehot(y)``: every row at its label."""
        xp = array_namespace(y, u)
        return u[:, None] * self._onehot(xp, y, u[:, None])

    def balance_extremes(self, y, theta, u):
        """Return ``max_i -p_ik`` per class over rows with ``u_i > 0``.

        ``p = onehot - theta / u`` are the rows of the dual point as probabilities.
        """
        xp = array_namespace(y, theta)
        p = self._dual_probabilities(xp, y, theta, u)
        # -inf on the rows to leave out, added to a whole row at once.
        low = xp.where(u > 0, xp.zeros_like(u), xp.full_like(u, -math.inf))
        return (low[:, None] - p,)

    def balance_mix(self, theta_sum, part_sums, anchor_sum, extremes):
        """Return the mix of rows ``q = (1 - t)(p + pi - pbar) + t pi`` (a simplex).

        ``theta = u (onehot - p)`` with ``p`` the softmax rows. With ``pi`` the
        weighted class frequencies (``anchor_sum``) and ``pbar = pi - theta_sum``
        the weighted mean of ``p``, ``q`` has the column sums of the labels for any
        ``t``; the smallest ``t`` in ``[0, 1]`` that makes it non-negative keeps it
        in the simplex. That ``t`` is set by the smallest ``p_ik`` of each class.
        ``u (onehot - q) = (1 - t) theta + t u onehot - u (pi - (1 - t) pbar)``.
        """
        xp = array_namespace(theta_sum, anchor_sum)
        pi, pbar = anchor_sum, anchor_sum - theta_sum
        shifted = theta_sum - extremes[0]  # the smallest p_k + pi_k - pbar_k
        short = shifted < 0
        room = xp.where(short, pi - shifted, xp.ones_like(pi))
        t = xp.clip(xp.max(xp.where(short, -shifted / room, 0.0 * pi)), 0.0, 1.0)
        return t, (), t, (1.0 - t) * pbar - pi

    def dual_value(self, y, theta, u):
        """Return ``-sum_i u_i sum_k q_ik log q_ik`` with ``q = onehot - theta / u``."""
        xp = array_namespace(y, theta)
        q = xp.clip(self._dual_probabilities(xp, y, theta, u), 0.0, 1.0)
        return -xp.sum(u[:, None] * _xlogx(xp, q))

    def constant_fit(self, y, u):
        """Return the optimal constant logits: the log class priors, centered."""
        xp = array_namespace(y, u)
        prior = xp.sum(u[:, None] * self._onehot(xp, y, u[:, None]), axis=0)
        tiny = float(xp.finfo(u.dtype).eps)
        logp = xp.log(xp.clip(prior, tiny, None))
        return logp - xp.mean(logp)

    def inverse_link(self, raw):
        """Return the class probabilities ``softmax(raw)`` of each row."""
        xp = array_namespace(raw)
        e = xp.exp(raw - _row_max(xp, raw)[:, None])
        return e / _row_sum(xp, e)[:, None]


__all__ = [
    "Hinge",
    "LogLoss",
    "ModifiedHuber",
    "MultinomialLogLoss",
    "SmoothedHinge",
]
