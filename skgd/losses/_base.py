# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The Loss contract: a per-sample regression loss of the linear prediction ``raw``.

A loss never sees X, so it never deals with sparse or chunked data; the chain rule
through X lives in :mod:`skgd._objective`.
"""

from dataclasses import dataclass

from array_api_compat import array_namespace


@dataclass(frozen=True)
class Loss:
    """Base class of per-sample losses ``L(y, raw)`` with ``raw = X @ w + b``.

    Subclasses implement :meth:`pointwise` and :meth:`gradient` using only Array API
    standard functions, and set the class attributes below.

    Attributes
    ----------
    curvature_bound : float or None
        An upper bound on the second derivative of the loss with respect to ``raw``,
        or None when there is none (the loss is not smooth).
    is_smooth : bool
        Whether the loss has a Lipschitz-continuous derivative.
    is_quadratic : bool
        Whether the loss is a quadratic function of ``raw`` (its gradient is then
        affine in ``raw``, which the full-batch solver exploits).
    has_conjugate : bool
        Whether :meth:`dual_value` is implemented, so that the full-batch solver can
        certify its solutions with a duality gap.
    balanced_dual : bool
        Whether the duality gap builds its dual point with :meth:`balance_dual`
        (the classification losses, whose conjugates are finite on a one-sided box
        or a simplex) instead of subtracting the mean and scaling into
        :meth:`dual_box`. Such a gap costs one pass over X.
    n_outputs : int
        Number of linear predictions per sample: 1, except for a loss of several
        (the multinomial one), whose ``raw`` has shape ``(n_samples, n_outputs)``
        and whose coefficients have shape ``(n_features, n_outputs)``.
    """

    curvature_bound = None
    n_outputs = 1
    balanced_dual = False
    is_smooth = True
    is_quadratic = False
    has_conjugate = False

    def pointwise(self, y, raw):
        """Return the loss of each sample.

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets.
        raw : array of shape (n_samples,)
            Linear predictions.

        Returns
        -------
        loss : array of shape (n_samples,)
            The per-sample losses.
        """
        raise NotImplementedError

    def gradient(self, y, raw):
        """Return the derivative of each sample's loss with respect to ``raw``.

        For a non-smooth loss this is a subgradient.

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets.
        raw : array of shape (n_samples,)
            Linear predictions.

        Returns
        -------
        gradient : array of shape (n_samples,)
            The per-sample derivatives.
        """
        raise NotImplementedError

    def value(self, y, raw, sample_weight=None):
        """Return the (weighted) mean loss as a 0-d array.

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets.
        raw : array of shape (n_samples,)
            Linear predictions.
        sample_weight : array of shape (n_samples,), default=None
            Non-negative weights; None means all ones.

        Returns
        -------
        value : 0-d array
            ``sum_i s_i L(y_i, raw_i) / sum_i s_i``.
        """
        xp = array_namespace(y, raw)
        losses = self.pointwise(y, raw)
        if sample_weight is None:
            return xp.mean(losses)
        return xp.sum(sample_weight * losses) / xp.sum(sample_weight)

    def constant_fit(self, y, u):
        """Return the best constant prediction: a starting offset of the model.

        The weighted mean of ``y``, which minimises the squared loss; losses with a
        better starting point (the log-odds of the labels for the log loss)
        override it.

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets.
        u : array of shape (n_samples,)
            Normalised sample weights (summing to one).

        Returns
        -------
        offset : 0-d array or array of shape (n_outputs,)
            The constant.
        """
        xp = array_namespace(y, u)
        return xp.sum(u * y)

    def balance_dual(self, y, theta, u):
        """Return a dual point that sums to zero over the samples and stays feasible.

        Only for losses with ``balanced_dual``: ``theta = -u * gradient`` is
        feasible for their conjugate, and the intercept needs ``sum_i theta_i =
        0``; this returns such a point, near ``theta`` (lazy array operations).

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets.
        theta : array of shape (n_samples,) or (n_samples, n_outputs)
            A feasible dual point.
        u : array of shape (n_samples,)
            Normalised sample weights.

        Returns
        -------
        theta : array of the same shape
            A feasible dual point whose sum over the samples is zero.
        """
        raise NotImplementedError

    def dual_box(self):
        """Return ``m`` such that the conjugate needs ``|theta_i| <= m u_i``, or None.

        Returns
        -------
        bound : float or None
            The bound (None: no bound, the conjugate is finite everywhere).
        """
        return None

    def dual_value(self, y, theta, u):
        """Return ``-sum_i u_i L_i^*(-theta_i / u_i)``, the loss part of the dual.

        ``L_i^*`` is the convex conjugate of ``f -> L(y_i, f)``. ``theta`` must
        respect :meth:`dual_box`; samples with ``u_i = 0`` must have ``theta_i = 0``.
        Losses without a cheap conjugate return None, and the full-batch solver then
        stops on the proximal-gradient measure instead of a duality gap.

        Parameters
        ----------
        y : array of shape (n_samples,)
            Targets.
        theta : array of shape (n_samples,)
            Dual variables.
        u : array of shape (n_samples,)
            Normalised sample weights (summing to one).

        Returns
        -------
        value : 0-d array or None
            The dual value of the loss term (a 0-d array of ``theta``'s namespace,
            so that a lazy backend can compute it together with other reductions).
        """
        return None

    def inverse_link(self, raw):
        """Return the prediction for ``raw``: the identity for every regression loss.

        Parameters
        ----------
        raw : array of shape (n_samples,)
            Linear predictions.

        Returns
        -------
        prediction : array of shape (n_samples,)
            ``raw`` itself.
        """
        return raw
