# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""What every solver returns, and the errors and warnings solvers share.

Solvers never warn or raise on their own terms: they go through these helpers, so the
messages users read are the same whichever solver ran.
"""

import math
import warnings
from dataclasses import dataclass, field

from sklearn.exceptions import ConvergenceWarning


@dataclass(frozen=True)
class SolverResult:
    """The outcome of one solver run on one target.

    Parameters
    ----------
    coef : array of shape (n_features,)
        Coefficients ``w``.
    intercept : float
        Intercept ``b`` of the uncentered model (0 without intercept).
    n_iter : int
        Passes over the data made (iterations for the full-batch solver, epochs for
        the minibatch solvers).
    converged : bool
        Whether the stopping criterion was met before ``max_iter``.
    objective_curve : list of float
        The objective after each iteration or epoch; ``len == n_iter``.
    extra : dict
        Solver-specific state (for instance the optimizer state of a minibatch run).

    Examples
    --------
    >>> import numpy as np
    >>> from skgd.solvers._result import SolverResult
    >>> res = SolverResult(np.zeros(2), 0.0, 3, True, [1.0, 0.5, 0.25])
    >>> res.n_iter, res.converged
    (3, True)
    """

    coef: object
    intercept: float
    n_iter: int
    converged: bool
    objective_curve: list
    extra: dict = field(default_factory=dict)


def warn_not_converged(solver, max_iter, measure=None, advice=None, uncertified=None):
    """Emit the ConvergenceWarning for a run that used up ``max_iter``.

    Parameters
    ----------
    solver : str
        The solver's name.
    max_iter : int
        The iteration budget that ran out.
    measure : str or None
        A description of where the stopping measure stood.
    advice : str or None
        The likely cause and its fix (default: raise max_iter or loosen tol).
    uncertified : str or None
        Why the run cannot certify its result at all (a solver's
        ``extra["uncertified"]``): the warning then says that instead.
    """
    where = f" ({measure})" if measure else ""
    if uncertified:
        warnings.warn(
            f"solver={solver!r} did not certify its result: {uncertified}.",
            ConvergenceWarning,
            stacklevel=3,
        )
        return
    advice = advice or "Increase max_iter, or loosen tol."
    warnings.warn(
        f"solver={solver!r} reached max_iter={max_iter} before meeting tol{where}. "
        f"{advice}",
        ConvergenceWarning,
        stacklevel=3,
    )


def check_finite_objective(value, *, step_name, step, iteration, hint):
    """Raise a ValueError if the objective is no longer finite.

    Parameters
    ----------
    value : float
        The objective just computed.
    step_name : str
        What the step size is called for the user (``"eta0"``, ``"step size"``).
    step : float
        Its current value.
    iteration : int
        The iteration or epoch where it happened.
    hint : str
        How to fix it.

    Raises
    ------
    ValueError
        If ``value`` is NaN or infinite.
    """
    if not math.isfinite(value):
        raise ValueError(
            f"The objective became {value} at iteration {iteration} with "
            f"{step_name}={step:.3g}: the fit diverged. {hint}"
        )
