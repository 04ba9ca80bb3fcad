# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""LossCurveDisplay: a fitted model's convergence curve, in sklearn's Display style.

matplotlib (the optional extra ``plot``) is imported only when something is drawn,
so ``import skgd`` never needs it. The display computes nothing beyond what the
estimator stored: it reads ``loss_curve_`` and, when present, ``validation_scores_``.
"""

import math


def _import_pyplot():
    """Return matplotlib.pyplot, or raise an ImportError naming the extra."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "LossCurveDisplay needs matplotlib: install the extra with "
            '`pip install "skgd[plot]"`.'
        ) from exc
    return plt


def _positive_or_nan(values, reference):
    """Return ``values - reference`` as floats, with non-positive entries as NaN.

    A log axis cannot show them; NaN leaves a gap instead of a plunge to the clip
    value matplotlib would otherwise draw.
    """
    shifted = [float(v) - reference for v in values]
    return [v if v > 0 and math.isfinite(v) else math.nan for v in shifted]


def _validation_axes(ax):
    """Return the right-hand axes of validation scores for ``ax``, made once.

    Several displays drawn on one axes share it, so their scales and ticks agree.
    """
    twin = getattr(ax, "_skgd_validation_axes", None)
    if twin is None:
        twin = ax.twinx()
        twin.set_ylabel("Validation score")
        ax._skgd_validation_axes = twin
    return twin


def _solved_directly(estimator):
    """Whether a fitted estimator's single-point curve comes from a direct solve.

    The closed-form solves (ridge, and the penalty-free squared loss on dense data)
    record ``n_iter_ == 1`` and one objective value, and so does a lasso or
    elastic net on dense data of many more rows than columns that one run of
    coordinate descent on its Gram matrix solves; an iterative run stopped by
    ``max_iter=1`` looks the same, so that case is not called direct.
    """
    return (
        getattr(estimator, "n_iter_", None) == 1
        and len(getattr(estimator, "loss_curve_", ())) == 1
        and getattr(estimator, "solver", None) in ("auto", "gd")
        and getattr(estimator, "max_iter", 1) > 1
    )


class LossCurveDisplay:
    """Convergence curve of a fitted estimator: its ``loss_curve_`` on a log scale.

    Build it with :meth:`from_estimator`; the constructor is for curves you already
    hold. For :class:`~skgd.GDRegressor` the curve is the full penalized objective
    after each iteration (pass over the data). When the estimator also has
    ``validation_scores_`` (stochastic solvers with ``early_stopping=True``), they are
    drawn on a second y-axis, on a linear scale, in the colour of the loss curve;
    displays drawn on the same axes share that second axis. A curve of one point (a
    problem solved directly, ``n_iter_ == 1``) is drawn as a marker.

    Read more in the :ref:`User Guide <convergence>`.

    Parameters
    ----------
    loss_curve : list of float
        The objective after each iteration or epoch.
    validation_scores : list of float, default=None
        A validation score after each epoch, or None.
    estimator_name : str, default=None
        Name used in the legend; None for ``"loss"``.
    reference : float, default=None
        If given, ``loss_curve - reference`` is drawn instead of ``loss_curve``: with
        the optimal objective value as ``reference`` this is the suboptimality,
        whose slope on the log scale shows the convergence rate. Values that are not
        positive are left out.
    solved_directly : bool, default=False
        Whether the curve's single point comes from a direct (closed-form) solve
        rather than an iteration; the legend then says "solved directly".

    Attributes
    ----------
    ax_ : matplotlib Axes
        Axes holding the loss curve.
    figure_ : matplotlib Figure
        Figure holding ``ax_``.
    line_ : matplotlib Line2D
        The loss curve.
    validation_line_ : matplotlib Line2D or None
        The validation scores (on a twin of ``ax_``, one per ``ax_``), or None when
        there are none.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : Scores against training size.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from skgd import GDRegressor, LossCurveDisplay
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = GDRegressor(penalty="l1", alpha=0.1).fit(X, y)
    >>> disp = LossCurveDisplay.from_estimator(reg)
    >>> disp.ax_.get_yscale()
    'log'
    >>> len(disp.line_.get_xdata()) == reg.n_iter_
    True
    """

    def __init__(
        self,
        *,
        loss_curve,
        validation_scores=None,
        estimator_name=None,
        reference=None,
        solved_directly=False,
    ):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name
        self.reference = reference
        self.solved_directly = solved_directly

    def plot(self, ax=None, *, name=None, **kwargs):
        """Draw the curve.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure and axes.
        name : str, default=None
            Legend label of the loss curve; None uses ``estimator_name``.
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot` for the loss curve.

        Returns
        -------
        display : LossCurveDisplay
            This object, with ``ax_``, ``figure_``, ``line_`` and
            ``validation_line_`` set.
        """
        plt = _import_pyplot()
        if ax is None:
            _, ax = plt.subplots()
        name = name if name is not None else self.estimator_name
        reference = 0.0 if self.reference is None else float(self.reference)
        values = _positive_or_nan(self.loss_curve, reference)
        steps = list(range(1, len(values) + 1))
        label = name if name is not None else "loss"
        if self.solved_directly:
            label = f"{label} (solved directly)"
        kwargs.setdefault("label", label)
        if len(values) == 1:
            # A line through one point is invisible: draw the point itself.
            kwargs.setdefault("marker", "o")
        (self.line_,) = ax.plot(steps, values, **kwargs)
        ax.set_yscale("log")
        ax.set_xlabel("Iteration (passes over the data)")
        ylabel = "Objective" if self.reference is None else "Objective - reference"
        ax.set_ylabel(ylabel)

        self.validation_line_ = None
        if self.validation_scores is not None and len(self.validation_scores):
            twin = _validation_axes(ax)
            scores = [float(s) for s in self.validation_scores]
            (self.validation_line_,) = twin.plot(
                list(range(1, len(scores) + 1)),
                scores,
                color=self.line_.get_color(),
                linestyle="--",
                label=f"{kwargs['label']}: validation score",
            )
        # Every labelled line of the axes and of its validation axes, so that curves
        # drawn on shared axes by several calls share one legend.
        handles = ax.get_legend_handles_labels()[0]
        twin = getattr(ax, "_skgd_validation_axes", None)
        if twin is not None:
            handles += twin.get_legend_handles_labels()[0]
        ax.legend(handles=handles)

        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, reference=None, **kwargs):
        """Draw the convergence curve of a fitted estimator.

        Parameters
        ----------
        estimator : estimator instance
            A fitted estimator with a ``loss_curve_`` attribute, such as
            :class:`~skgd.GDRegressor`, or a :class:`~sklearn.pipeline.Pipeline`
            ending with one.
        ax : matplotlib Axes, default=None
            Axes to draw on; None creates a new figure and axes.
        name : str, default=None
            Legend label; None uses the estimator's class name.
        reference : float, default=None
            If given, draw ``loss_curve_ - reference`` (see the class docstring).
        **kwargs : dict
            Passed to :meth:`matplotlib.axes.Axes.plot` for the loss curve.

        Returns
        -------
        display : LossCurveDisplay
            The display, already drawn.

        Raises
        ------
        ValueError
            If the estimator has no ``loss_curve_`` (not fitted, or not an
            iterative estimator).
        """
        _import_pyplot()  # fail early, before touching the estimator
        final = estimator
        steps = getattr(estimator, "steps", None)
        if steps and not hasattr(estimator, "loss_curve_"):
            final = steps[-1][1]
        loss_curve = getattr(final, "loss_curve_", None)
        if loss_curve is None:
            raise ValueError(
                f"{type(final).__name__} has no loss_curve_: fit it first (only "
                "iterative estimators such as GDRegressor record one)."
            )
        display = cls(
            loss_curve=loss_curve,
            validation_scores=getattr(final, "validation_scores_", None),
            estimator_name=name if name is not None else type(final).__name__,
            reference=reference,
            solved_directly=_solved_directly(final),
        )
        return display.plot(ax=ax, **kwargs)
