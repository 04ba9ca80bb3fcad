# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""What each solver needs from a Loss and a Penalty, checked when a fit starts.

The solvers call :func:`check_support` first, so that a user-written loss or penalty
that leaves out something the chosen solver calls fails at once, with a message that
names the missing method and what to do, instead of deep inside an iteration.
"""

import math

from skgd.losses._base import Loss
from skgd.penalties._base import Penalty

SOLVERS = ("gd", "sgd", "adam", "working_set", "newton")


def provides(obj, name):
    """Return whether ``obj`` overrides the base class's default ``name``.

    The defaults of :class:`~skgd.losses.Loss` and :class:`~skgd.penalties.Penalty`
    that raise NotImplementedError (or return the "not provided" marker) stand for
    a method the object does not provide.

    Parameters
    ----------
    obj : Loss or Penalty
        The object.
    name : str
        The method's name.

    Returns
    -------
    provided : bool
        True when the class of ``obj`` defines ``name`` itself.
    """
    base = Loss if isinstance(obj, Loss) else Penalty
    return getattr(type(obj), name, None) is not getattr(base, name, None)


def _missing_loss(loss, solver):
    """Return the reasons ``loss`` cannot run with ``solver`` (empty if it can)."""
    name = type(loss).__name__
    out = [
        f"{name} does not implement {method}(y, raw), which every solver calls."
        for method in ("pointwise", "gradient")
        if not provides(loss, method)
    ]
    if solver in ("gd", "working_set", "newton"):
        if loss.is_smooth:
            # Newton's line search tests the objective itself: no bound needed.
            if solver != "newton":
                out += _missing_curvature(loss, solver, "")
        elif solver == "working_set":
            out.append(f"{name} is not smooth: the working sets need a smooth loss.")
        elif not provides(loss, "smoothed"):
            out.append(
                f"{name} has is_smooth=False but does not implement smoothed(mu), "
                f"which solver {solver!r} calls to minimise smooth approximations "
                "of decreasing width mu (e.g. the Moreau envelope of width mu); "
                "implement it, or use solver='sgd' or 'adam'."
            )
        else:
            stage = loss.smoothed(1.0)
            if not (isinstance(stage, Loss) and stage.is_smooth):
                out.append(f"{name}.smoothed(mu) must return a smooth Loss.")
            else:
                out += _missing_curvature(stage, solver, f"{name}.smoothed(mu): ")
        if loss.has_conjugate and not provides(loss, "dual_value"):
            out.append(
                f"{name} has has_conjugate=True but does not implement "
                "dual_value(y, theta, u); implement it, or set has_conjugate=False "
                "(the solver then stops on the proximal-gradient measure)."
            )
        if loss.has_conjugate and loss.balanced_dual:
            out += [
                f"{name} has balanced_dual=True but does not implement {method}."
                for method in ("balance_mix",)
                if not provides(loss, method)
            ]
    if solver == "working_set" and not loss.has_conjugate:
        out.append(f"{name}: the working sets need a conjugate (dual_value).")
    if solver == "newton":
        out += _missing_newton(loss)
    return out


def _missing_newton(loss):
    """Return the reasons ``loss`` cannot run the proximal Newton solver, if any."""
    name = type(loss).__name__
    out = []
    if not loss.is_smooth:
        out.append(f"{name} is not smooth: solver 'newton' needs a smooth loss.")
    if getattr(loss, "n_outputs", 1) != 1:
        out.append(f"{name} has several outputs: solver 'newton' needs one.")
    if not provides(loss, "hessian"):
        out.append(
            f"{name} does not implement hessian(y, raw), the second derivative "
            "that solver 'newton' builds its Hessian from; implement it, or use "
            "solver='gd'."
        )
    return out


def _missing_curvature(loss, solver, prefix):
    """Return the reason a smooth ``loss`` cannot run ``"gd"``, if any."""
    bound = loss.curvature_bound
    if bound is not None and math.isfinite(float(bound)) and float(bound) > 0:
        return []
    if solver == "gd" and callable(getattr(loss, "curvature_between", None)):
        return []  # the step test reads the curvature along each step instead
    # Newton needs no bound.
    alt = "'newton', " if provides(loss, "hessian") else ""
    return [
        f"{prefix}{type(loss).__name__} is smooth but its curvature_bound is "
        f"{bound!r}: solver {solver!r} needs a positive upper bound on the second "
        "derivative of the loss with respect to raw (its backtracking test relies "
        f"on it). Set the class attribute curvature_bound, or use solver={alt}'sgd' "
        "or 'adam'."
    ]


def _missing_penalty(penalty, solver):
    """Return the reasons ``penalty`` cannot run with ``solver`` (empty if it can)."""
    name = type(penalty).__name__
    # (Literal names: a name built per call, e.g. by split, fills CPython's
    # type attribute cache with new strings at every fit.)
    out = [
        f"{name} does not implement {signature}, which every solver calls."
        for method, signature in (("value", "value(w)"), ("prox", "prox(v, step)"))
        if not provides(penalty, method)
    ]
    if solver in ("gd", "adam", "working_set", "newton") and not penalty.is_separable:
        out.append(
            f"{name} has is_separable=False, but solver {solver!r} calls "
            "prox(v, step) with one step per coordinate; use solver='sgd', whose "
            "step is a scalar."
        )
    if solver in ("gd", "working_set", "newton") and provides(penalty, "dual_scale"):
        if not provides(penalty, "conjugate"):
            out.append(
                f"{name} implements dual_scale(v) but not conjugate(v), which the "
                f"duality gap of solver {solver!r} calls; implement it, or leave "
                "dual_scale out (the solver then stops on the proximal-gradient "
                "measure)."
            )
    shape = penalty.elastic_net_shape()
    if solver == "newton" and (shape is None or (shape[2] and not shape[0] > 0)):
        out.append(
            f"{name}.elastic_net_shape() is {shape!r}: solver 'newton' solves its "
            "inner problem for elastic-net-family penalties only (with the "
            "constraint w >= 0, only with an L1 part)."
        )
    if solver == "working_set":
        weights = penalty.elastic_net_shape()
        if weights is None or not weights[0] > 0:
            out.append(
                f"{name}.elastic_net_shape() is {weights!r}: the working sets "
                "need an elastic net with an L1 part, (l1, l2, positive) with l1 > 0."
            )
    return out


def check_support(loss, penalty, solver):
    """Check that ``loss`` and ``penalty`` provide what ``solver`` calls.

    The solvers call this when a fit starts. What each needs:

    - every solver: ``loss.pointwise`` and ``loss.gradient``, ``penalty.value`` and
      ``penalty.prox``;
    - ``"gd"``: a positive, finite ``loss.curvature_bound`` (or
      ``loss.curvature_between``, a bound along each step) for a smooth loss, or
      ``loss.smoothed(mu)`` returning such a loss for a non-smooth one;
      ``loss.dual_value`` where ``loss.has_conjugate``; ``penalty.conjugate``
      where the penalty implements ``dual_scale``; ``penalty.is_separable``;
    - ``"adam"``: ``penalty.is_separable`` (its steps are per coordinate);
    - ``"sgd"``: nothing more;
    - ``"working_set"`` (the working sets of ``"gd"``): as ``"gd"``, with a smooth
      loss with a conjugate, and ``penalty.elastic_net_shape()`` with ``l1 > 0``;
    - ``"newton"``: as ``"gd"`` but without a ``curvature_bound`` (its line
      search tests the objective), with a smooth loss of one output that
      implements ``loss.hessian``, and a penalty with ``elastic_net_shape()``.

    Parameters
    ----------
    loss : Loss
        The loss.
    penalty : Penalty
        The penalty.
    solver : {"gd", "sgd", "adam", "working_set", "newton"}
        The solver about to run.

    Raises
    ------
    TypeError
        If ``loss`` is not a :class:`~skgd.losses.Loss` or ``penalty`` not a
        :class:`~skgd.penalties.Penalty`.
    ValueError
        If either leaves out something the solver needs (the message names it and
        what to do), or if ``solver`` is unknown.

    Examples
    --------
    >>> from skgd.losses import EpsilonInsensitive, Loss
    >>> from skgd.penalties import L1
    >>> from skgd.testing import check_support
    >>> check_support(EpsilonInsensitive(), L1(), "gd")
    >>> class Kinked(Loss):
    ...     is_smooth = False
    ...     def pointwise(self, y, raw):
    ...         return abs(y - raw)
    ...     def gradient(self, y, raw):
    ...         return (raw > y) * 2.0 - 1.0
    >>> check_support(Kinked(), L1(), "sgd")
    >>> check_support(Kinked(), L1(), "gd")
    Traceback (most recent call last):
    ...
    ValueError: Kinked cannot be fit with solver 'gd': Kinked has is_smooth=False...
    """
    if not isinstance(loss, Loss):
        raise TypeError(
            f"The loss must be a skgd.losses.Loss instance, got {type(loss)!r}."
        )
    if not isinstance(penalty, Penalty):
        raise TypeError(
            "The penalty must be a skgd.penalties.Penalty instance, got "
            f"{type(penalty)!r}."
        )
    if solver not in SOLVERS:
        raise ValueError(f"Unknown solver {solver!r}; expected one of {SOLVERS}.")
    loss_missing = _missing_loss(loss, solver)
    penalty_missing = _missing_penalty(penalty, solver)
    if loss_missing or penalty_missing:
        subject = [type(loss).__name__] if loss_missing else []
        subject += [type(penalty).__name__] if penalty_missing else []
        raise ValueError(
            f"{' with '.join(subject)} cannot be fit with solver {solver!r}: "
            + " ".join(loss_missing + penalty_missing)
        )
