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
    """

    curvature_bound = None
    is_smooth = True
    is_quadratic = False

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
