# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The Penalty contract: a convex function of the coefficients with a cheap prox.

A penalty acts on ``w`` only; the intercept is never penalized. The conjugate and the
dual scaling, where a penalty provides them, let the full-batch solver certify its
solution with a duality gap; the elastic-net weights, where it declares them, open the
solvers' closed-form fast paths (and, with the sign constraint, the shape of
:meth:`Penalty.elastic_net_shape` opens those that handle it).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Penalty:
    """Base class of penalties ``h(w)``.

    Subclasses implement :meth:`value` and :meth:`prox` with Array API standard
    functions; the other methods are optional, and their defaults say "not
    provided". What each solver calls (:func:`skgd.testing.check_support` checks it
    when a fit starts, and names what is missing):

    - every solver calls :meth:`value` and :meth:`prox`; ``"gd"`` and ``"adam"``
      call :meth:`prox` with one step per coordinate, so they need
      ``is_separable``;
    - ``"gd"`` certifies its solution with a duality gap when :meth:`dual_scale`
      returns a number (it then calls :meth:`conjugate` and
      :meth:`fenchel_young`), and stops on the proximal-gradient measure when it
      returns None (the default);
    - a penalty that is an elastic net ``l1 ||w||_1 + l2 / 2 ||w||_2^2`` says so
      with :meth:`elastic_net_weights`: ``"gd"`` then solves problems with
      ``l1 > 0`` on working sets of features and ridge problems in closed form,
      and ``"sgd"``/``"adam"`` apply the ``l2`` part as weight decay.

    Attributes
    ----------
    is_separable : bool
        Whether ``h(w) = sum_j h_j(w_j)``, so that :meth:`prox` accepts one step
        per coordinate (an array ``step``): the diagonal metric of ``"gd"`` and
        Adam's per-coordinate steps need it. A penalty that couples coordinates
        sets it to False and fits with ``"sgd"``, whose step is a scalar.
    """

    is_separable = True

    def value(self, w):
        """Return ``h(w)`` as a 0-d array.

        Parameters
        ----------
        w : array of shape (n_features,)
            Coefficients.

        Returns
        -------
        value : 0-d array
            The penalty.
        """
        raise NotImplementedError

    def prox(self, v, step):
        """Return ``argmin_w h(w) + sum_j (w_j - v_j)**2 / (2 step_j)``.

        Parameters
        ----------
        v : array of shape (n_features,)
            The point to map.
        step : float or array of shape (n_features,)
            The step size, scalar or per coordinate (a diagonal metric; only for a
            penalty with ``is_separable``).

        Returns
        -------
        w : array of shape (n_features,)
            The proximal point.
        """
        raise NotImplementedError

    def elastic_net_weights(self):
        """Return ``(l1, l2)`` if ``h(w) = l1 ||w||_1 + l2 / 2 ||w||_2^2``, else None.

        Declaring the weights is a promise that :meth:`value`, :meth:`prox`,
        :meth:`conjugate` and :meth:`dual_scale` are those of the elastic net with
        these weights: the fast paths (working sets, the closed-form ridge solve,
        weight decay) use the formulas instead of calling them. Not provided by
        default (None).

        Returns
        -------
        weights : tuple of two floats, or None
            The non-negative strengths of the L1 and squared-L2 terms.
        """
        return None

    def elastic_net_shape(self):
        """Return ``(l1, l2, positive)`` for an elastic net, with or without ``w >= 0``.

        :meth:`elastic_net_weights` with one more declaration: ``positive`` True
        says that ``h`` also holds the constraint ``w >= 0`` (its indicator), so
        the conditions of optimality are one-sided. A solver that handles the
        constraint asks for this instead of :meth:`elastic_net_weights`. By
        default, those weights with ``positive`` False (None where there are none).

        Returns
        -------
        shape : tuple of (float, float, bool), or None
            The strengths of the L1 and squared-L2 terms, and the constraint.

        Examples
        --------
        >>> from skgd.penalties import L1
        >>> L1(alpha=0.5, positive=True).elastic_net_shape()
        (0.5, 0.0, True)
        >>> L1(alpha=0.5, positive=True).elastic_net_weights() is None
        True
        """
        weights = self.elastic_net_weights()
        return None if weights is None else (*weights, False)

    def conjugate(self, v):
        """Return the convex conjugate ``h*(v) = sup_w v.w - h(w)`` (may be ``inf``).

        Needed where :meth:`dual_scale` returns a number; not provided by default.

        Parameters
        ----------
        v : array of shape (n_features,)
            The dual point.

        Returns
        -------
        value : float
            The conjugate.
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not provide conjugate(v)."
        )

    def dual_scale(self, v):
        """Return the factor ``k`` in ``(0, 1]`` that makes ``h*(k v)`` finite.

        Parameters
        ----------
        v : array of shape (n_features,)
            The dual point, ``X.T @ theta``.

        Returns
        -------
        scale : float or None
            The factor, or None when no scaling gives a useful dual point (no penalty:
            the dual is then feasible only at the exact optimum). The default, None,
            also stands for a penalty that provides no :meth:`conjugate`: the
            full-batch solver then stops on the proximal-gradient measure.
        """
        return None

    def fenchel_young(self, w, v):
        """Return the Fenchel-Young gap ``h(w) + h*(v) - w.v``, non-negative.

        The duality gap of the full-batch solver is made of this term, so penalties
        should compute it without cancellation (coordinate by coordinate); the
        default computes it by difference, which limits the accuracy of a
        certificate to the rounding of ``h(w)``.

        Parameters
        ----------
        w : array of shape (n_features,)
            Primal point.
        v : array of shape (n_features,)
            Dual point.

        Returns
        -------
        gap : float
            The gap, 0 exactly when ``v`` is a subgradient of ``h`` at ``w``.
        """
        return max(float(self.value(w)) + self.conjugate(v) - float(w @ v), 0.0)
