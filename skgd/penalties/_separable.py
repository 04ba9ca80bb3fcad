# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Separable penalties: none, L1, L2 and the elastic net, with closed-form proxes.

All are one family, ``alpha * sum_j c_j (l1_ratio |w_j| + (1 - l1_ratio) / 2 w_j**2)``
with per-feature weights ``c`` (all 1 by default) and, optionally, the constraint
``w >= 0``; the classes differ only in how their strengths are given.
"""

import dataclasses
import functools
import math
from dataclasses import dataclass

from array_api_compat import device

from skgd._backend._namespace import array_namespace, total
from skgd.penalties._base import Penalty


class _ElasticNetFamily(Penalty):
    """Shared maths of ``sum_j c_j (l1 |w_j| + l2 / 2 w_j**2)`` given ``l1`` and ``l2``.

    ``c`` is the per-feature ``weights`` (all 1 when None) and ``positive`` adds
    the constraint ``w >= 0`` (the indicator of the non-negative orthant). With
    either, the penalty no longer declares :meth:`elastic_net_weights`: the
    solvers' closed-form shortcuts and Newton steps assume the plain elastic net,
    and the generic proximal-gradient path (certified by the duality gap below)
    fits it instead. With ``positive`` alone it declares
    :meth:`elastic_net_shape`, through which the working sets and the Gram
    coordinate descent fit it.
    """

    positive = False
    weights = None

    @property
    def l1(self):
        """Strength of the L1 term."""
        raise NotImplementedError

    @property
    def l2(self):
        """Strength of the squared-L2 term."""
        raise NotImplementedError

    def __post_init__(self):
        weights = self.weights
        if weights is None:
            return
        try:
            c = tuple(float(x) for x in weights)
        except (TypeError, ValueError):
            c = None
        if c is None or not all(math.isfinite(x) and x >= 0 for x in c):
            raise ValueError(
                "penalty_weights must be a 1-D array of finite, non-negative "
                f"numbers, one per feature; got {weights!r}. Use 0 to leave a "
                "feature unpenalized."
            )
        # A tuple keeps the dataclass hashable and comparable; _strengths caches
        # its array form per namespace, dtype and device.
        object.__setattr__(self, "weights", c)

    def elastic_net_weights(self):
        """Return ``(l1, l2)`` for the plain elastic net, None with weights or sign."""
        if self.positive or self.weights is not None:
            return None
        return float(self.l1), float(self.l2)

    def elastic_net_shape(self):
        """Return ``(l1, l2, positive)``; None with weights.

        The working sets and the Gram coordinate descent handle the constraint
        ``w >= 0`` (their optimality conditions one-sided) and ask for this.
        """
        if self.weights is not None:
            return None
        return float(self.l1), float(self.l2), bool(self.positive)

    def _strengths(self, w):
        """Return ``(l1, l2, c)``: the strengths per feature, broadcast like ``w``.

        Scalars without weights; arrays of ``w``'s namespace, dtype and device
        otherwise (shaped ``(n_features, 1)`` for coefficients of several outputs).
        """
        if self.weights is None:
            return self.l1, self.l2, None
        xp = array_namespace(w)
        key = (xp.__name__, str(w.dtype), str(device(w)))
        c = self._arrays.get(key)
        if c is None:
            c = xp.asarray(self.weights, dtype=w.dtype, device=device(w))
            self._arrays[key] = c
        if c.shape[0] != w.shape[0]:
            raise ValueError(
                f"penalty_weights has {c.shape[0]} entries but the coefficients "
                f"have {w.shape[0]} features; pass one weight per feature."
            )
        if w.ndim == 2:
            c = xp.reshape(c, (-1, 1))
        return self.l1 * c, self.l2 * c, c

    @functools.cached_property
    def _arrays(self):
        """The weights as arrays, by namespace, dtype and device (filled on use)."""
        return {}

    def _signed(self, xp, v):
        """Return ``v`` with the constraint (``w >= 0``: one-sided), else ``|v|``."""
        return v if self.positive else xp.abs(v)

    def value(self, w):
        """Return ``sum_j c_j (l1 |w_j| + l2 / 2 w_j**2)``.

        With ``positive``, ``inf`` where ``w`` has a negative coordinate.
        """
        xp = array_namespace(w)
        l1, l2, c = self._strengths(w)
        out = 0.0 * total(xp, w)  # a 0-d zero of w's dtype, namespace and device
        if self.l1:
            out = out + total(xp, l1 * xp.abs(w))
        if self.l2:
            out = out + 0.5 * total(xp, l2 * w * w)
        if self.positive and bool(xp.any(w < 0)):
            out = out + math.inf
        return out

    def prox(self, v, step):
        """Soft-threshold by ``step * l1 c``, then shrink by ``1 + step * l2 c``.

        With ``positive`` the threshold is one-sided: ``max(v - step l1 c, 0)``.
        """
        xp = array_namespace(v)
        l1, l2, _ = self._strengths(v)
        w = v
        if self.positive:
            w = xp.maximum(v - step * l1, 0.0) if self.l1 else xp.maximum(v, 0.0)
        elif self.l1:
            # Soft-threshold as v - clip(v, -t, t), with elementwise max/min: the
            # cheapest form in every namespace (this runs once per iteration).
            t = step * l1
            w = v - xp.minimum(xp.maximum(v, -t), t)
        if self.l2:
            w = w / (1.0 + step * l2)
        return w

    def _unpenalized(self):
        """Whether some feature has weight 0 (its conjugate needs ``v_j`` exactly 0)."""
        return self.weights is not None and min(self.weights, default=1.0) == 0.0

    def unpenalized_features(self):
        """Return the indices of the features of weight 0, in increasing order.

        Examples
        --------
        >>> from skgd.penalties import L1
        >>> L1(1.0, weights=[0.0, 2.0, 0.0]).unpenalized_features()
        (0, 2)
        >>> L1(1.0).unpenalized_features()
        ()
        """
        if self.weights is None:
            return ()
        return tuple(j for j, c in enumerate(self.weights) if c == 0.0)

    def conjugate(self, v):
        """Return ``sum_j max(s_j - l1 c_j, 0)**2 / (2 l2 c_j)``, or a ball's indicator.

        ``s = |v|``, or ``s = v`` with ``positive`` (the supremum runs over
        ``w >= 0`` only). A feature of weight 0 contributes the indicator of
        ``s_j <= 0``.
        """
        xp = array_namespace(v)
        l1, l2, c = self._strengths(v)
        excess = xp.maximum(self._signed(xp, v) - l1, 0.0)
        # Pure L1: the conjugate is the indicator of the box s_j <= l1 c_j; allow
        # the rounding of the scaling that put v there (a few ulps of v's dtype:
        # 1e-12 is below float32's rounding, and made a third of float32 gaps
        # infinite).
        if not self.l2:
            slack = max(1e-12, 16.0 * float(xp.finfo(v.dtype).eps))
            return math.inf if bool(xp.any(excess > slack * l1)) else 0.0
        if c is None:
            return float(xp.sum(excess * excess)) / (2.0 * l2)
        if bool(xp.any((c == 0) & (excess > 0))):
            return math.inf
        safe = xp.where(c > 0, l2, xp.ones_like(l2))
        return float(xp.sum(xp.where(c > 0, excess * excess / (2.0 * safe), 0.0)))

    def fenchel_young(self, w, v):
        """Return ``h(w) + h*(v) - w.v`` as a sum of non-negative coordinate terms.

        With ``t = sign(w) v - l1 c`` and ``z = max(s - l1 c, 0)`` (``s`` as in
        :meth:`conjugate`), a coordinate's term is ``(l2 c |w| - t)**2 / (2 l2 c)``
        where ``w != 0`` and ``t >= 0``, and
        ``-|w| t + l2 c w**2 / 2 + z**2 / (2 l2 c)`` otherwise (every part
        non-negative): no cancellation between large quantities, so the gap stays
        accurate far below the rounding level of the objective.
        """
        xp = array_namespace(w, v)
        if math.isinf(self.conjugate(v)) or (self.positive and bool(xp.any(w < 0))):
            return math.inf
        l1, l2, c = self._strengths(w)
        absw = xp.abs(w)
        # sign(w) v - l1 (where w == 0 the value is unused: |w| or the mask kill it)
        t = xp.where(w > 0, v, -v) - l1
        if not self.l2:
            return float(xp.sum(absw * xp.maximum(-t, 0.0)))
        if c is not None:
            # Zero weights: the conjugate being finite, v_j = 0 there, the term -w t.
            l2 = xp.where(c > 0, l2, xp.ones_like(l2))
        z = xp.maximum(self._signed(xp, v) - l1, 0.0)
        on = (w != 0) & (t >= 0)
        diff = l2 * absw - t
        term = xp.where(
            on,
            diff * diff / (2.0 * l2),
            absw * xp.maximum(-t, 0.0) + 0.5 * l2 * absw * absw + z * z / (2.0 * l2),
        )
        if c is not None:
            # A feature of weight 0 has h_j = 0 (or the indicator of w_j >= 0),
            # and a finite conjugate only at v_j = 0 (v_j <= 0): its term is -w v.
            term = xp.where(c > 0, term, absw * xp.maximum(-t, 0.0))
        return float(xp.sum(term))

    def dual_scale(self, v):
        """Return the factor ``k`` in ``(0, 1]`` that makes ``h*(k v)`` finite.

        1 when ``l2 > 0``; ``min(1, min_j l1 c_j / s_j)`` for pure L1 (``s`` as in
        :meth:`conjugate`). None without a penalty, and with a feature of weight
        0: its conjugate is finite only where ``v_j = 0``, which no scaling gives
        short of the exact optimum, so the fit is not certified by a gap there
        and stops on the proximal-gradient measure.
        """
        if not (self.l1 or self.l2) or self._unpenalized():
            return None
        return self.penalized_dual_scale(v)

    def penalized_dual_scale(self, v):
        """Return :meth:`dual_scale` over the penalized features alone.

        The features of weight 0 are left out: a dual point whose ``v_j`` is
        exactly 0 there (at most 0 with ``positive``) has a finite conjugate
        after this scaling (:func:`skgd._gaps.unpenalized_gap` builds one).
        None without a penalty.
        """
        if not (self.l1 or self.l2):
            return None
        if self.l2:
            return 1.0
        xp = array_namespace(v)
        l1, _, c = self._strengths(v)
        if c is None:
            ratio = self._signed(xp, v) / l1
        else:
            penalized = c > 0
            safe = xp.where(penalized, l1, xp.ones_like(l1))
            ratio = xp.where(penalized, self._signed(xp, v) / safe, 0.0 * v)
        vmax = float(xp.max(ratio)) if v.shape[0] else 0.0
        return 1.0 if vmax <= 1.0 else 1.0 / vmax

    def __repr__(self):
        # Only the fields that differ from their defaults beyond the strengths, so
        # that a plain penalty reads as before: L1(alpha=0.1).
        shown = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if f.name not in ("positive", "weights")
            or getattr(self, f.name) != f.default
        ]
        return f"{type(self).__name__}({', '.join(shown)})"


@dataclass(frozen=True, repr=False)
class NoPenalty(_ElasticNetFamily):
    """No penalty, ``h(w) = 0``: ordinary (robust) regression.

    Parameters
    ----------
    positive : bool, default=False
        Constrain the coefficients to ``w >= 0`` (non-negative least squares for
        the squared loss): the prox is the projection onto them.
    weights : None
        Accepted for the family's sake; no strength for it to scale.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.penalties import NoPenalty
    >>> NoPenalty().prox(np.array([-2.0, 0.5]), 1.0)
    array([-2. ,  0.5])
    >>> NoPenalty(positive=True).prox(np.array([-2.0, 0.5]), 1.0)
    array([0. , 0.5])
    """

    l1 = 0.0
    l2 = 0.0
    positive: bool = False
    weights: tuple | None = None


@dataclass(frozen=True, repr=False)
class L1(_ElasticNetFamily):
    r"""Lasso penalty, :math:`\alpha \|w\|_1`.

    Its prox is the soft-threshold :math:`\mathrm{sign}(v) \max(|v| - \eta\alpha, 0)`,
    which gives exact zeros.

    Parameters
    ----------
    alpha : float, default=1e-4
        Strength of the penalty.
    positive, weights : bool and array-like or None, default=False and None
        The constraint ``w >= 0`` and per-feature factors of the strength, as
        for :class:`L1L2`.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.penalties import L1
    >>> L1(alpha=1.0).prox(np.array([-2.0, 0.5]), 1.0)
    array([-1.,  0.])
    >>> L1(alpha=1.0, weights=[0.0, 0.25]).prox(np.array([-2.0, 0.5]), 1.0)
    array([-2.  ,  0.25])
    """

    alpha: float = 1e-4
    positive: bool = False
    weights: tuple | None = None

    @property
    def l1(self):
        """Strength of the L1 term: ``alpha``."""
        return self.alpha

    l2 = 0.0


@dataclass(frozen=True, repr=False)
class L2(_ElasticNetFamily):
    r"""Ridge penalty, :math:`\frac{\alpha}{2} \|w\|_2^2`.

    Its prox is the shrinkage :math:`v / (1 + \eta\alpha)`, and a problem with
    this penalty alone and the squared loss is solved in closed form.

    Parameters
    ----------
    alpha : float, default=1e-4
        Strength of the penalty (the weight of the squared norm over 2).
    positive, weights : bool and array-like or None, default=False and None
        The constraint ``w >= 0`` and per-feature factors of the strength, as
        for :class:`L1L2`.

    Examples
    --------
    >>> from skgd.penalties import L2
    >>> L2(alpha=2.0).elastic_net_weights()
    (0.0, 2.0)
    """

    alpha: float = 1e-4
    positive: bool = False
    weights: tuple | None = None
    l1 = 0.0

    @property
    def l2(self):
        """Strength of the squared-L2 term: ``alpha``."""
        return self.alpha


@dataclass(frozen=True, repr=False)
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
    positive : bool, default=False
        Constrain the coefficients to ``w >= 0``: the prox projects onto them and
        the conjugate is one-sided.
    weights : array-like of shape (n_features,) or None, default=None
        Non-negative factors ``c_j`` of the strengths, feature by feature (None:
        all 1); 0 leaves a feature unpenalized. Stored as a tuple.

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.penalties import L1L2
    >>> L1L2(alpha=2.0, l1_ratio=0.5).prox(np.array([-2.0, 0.5]), 1.0)
    array([-0.5,  0. ])
    """

    alpha: float = 1e-4
    l1_ratio: float = 0.15
    positive: bool = False
    weights: tuple | None = None

    @property
    def l1(self):
        """Strength of the L1 term: ``alpha * l1_ratio``."""
        return self.alpha * self.l1_ratio

    @property
    def l2(self):
        """Strength of the squared-L2 term: ``alpha * (1 - l1_ratio)``."""
        return self.alpha * (1.0 - self.l1_ratio)
