# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""The epoch loop of the stochastic solvers and its stopping rule, for any data.

An epoch is one pass over the data made by a function the caller gives: the minibatch
solver passes over the rows of an in-memory objective, the Dask stream over row
chunks. What happens between two passes is written here once for both: the loss
curve, the validation scores and the best iterate, SGDRegressor's stopping rule
(``tol``, ``n_iter_no_change``, the step reduction of ``"adaptive"``), the log line
and the callback.
"""

import math
import time
from dataclasses import dataclass, field

# "adaptive" stops reducing its step (and the solver stops) below this step size, as
# in SGDRegressor.
ETA_FLOOR = 1e-6


@dataclass(frozen=True)
class StopState:
    """Where the stopping rule stands after an epoch.

    Parameters
    ----------
    best_loss : float
        The lowest epoch loss so far.
    best_score : float
        The highest validation score so far.
    no_improvement : int
        Epochs in a row without an improvement by ``tol`` (0 after a reduction).
    new_best : bool
        Whether the last epoch's validation score is the best so far.
    """

    best_loss: float = math.inf
    best_score: float = -math.inf
    no_improvement: int = 0
    new_best: bool = False


@dataclass(frozen=True)
class Stopping:
    """SGDRegressor's stopping rule, as an ``init``/``update`` pair.

    An epoch counts as no improvement when its loss exceeds the best one minus
    ``tol`` (with a validation score: when the score is below the best one plus
    ``tol``). After ``n_iter_no_change`` such epochs an adaptive schedule divides
    its step by ``reduction`` (while the step is above ``1e-6``) and counts anew;
    any other run stops. ``tol=None`` never stops.

    Parameters
    ----------
    tol : float or None
        The improvement that counts.
    n_iter_no_change : int
        Epochs without improvement before stopping or reducing the step.
    adaptive : bool, default=False
        Whether stagnation reduces the step (``"adaptive"``) instead of stopping.
    reduction : float, default=5.0
        The divisor of the step at each reduction.

    Examples
    --------
    >>> from skgd.solvers._epochs import Stopping
    >>> rule = Stopping(tol=0.1, n_iter_no_change=2)
    >>> state = rule.init()
    >>> for loss in [1.0, 0.95, 0.93]:
    ...     state, action = rule.update(state, loss)
    >>> action
    'stop'
    """

    tol: float | None
    n_iter_no_change: int
    adaptive: bool = False
    reduction: float = 5.0

    def init(self):
        """Return the state before the first epoch."""
        return StopState()

    def update(self, state, loss, score=None, eta=math.inf):
        """Return ``(state, action)`` after an epoch of loss ``loss``.

        ``action`` is ``"continue"``, ``"reduce"`` (divide the step by
        ``reduction``) or ``"stop"``; ``eta`` is the step size of the epoch's last
        update and ``score`` its validation score, or None.
        """
        tol = -math.inf if self.tol is None else self.tol
        best_score, new_best = state.best_score, False
        if score is not None:
            improved = score >= best_score + tol
            if score > best_score:
                best_score, new_best = score, True
        else:
            improved = loss <= state.best_loss - tol
        count = 0 if improved else state.no_improvement + 1
        action = "continue"
        if count >= self.n_iter_no_change:
            action = "reduce" if self.adaptive and eta > ETA_FLOOR else "stop"
        new = StopState(
            best_loss=min(state.best_loss, loss),
            best_score=best_score,
            no_improvement=0 if action == "reduce" else count,
            new_best=new_best,
        )
        return new, action


@dataclass(frozen=True)
class Epoch:
    """What one pass over the data reports to the epoch loop.

    Parameters
    ----------
    loss : float
        The epoch loss (the running loss over the pass, penalty included).
    eta : float
        The step size of the pass's last update.
    score : float or None, default=None
        The validation score of ``params`` (higher is better), or None.
    params : object, default=None
        The iterate to report, kept as the best one under early stopping.
    """

    loss: float
    eta: float
    score: float | None = None
    params: object = None


@dataclass
class EpochsResult:
    """The outcome of :func:`run_epochs`.

    ``carry`` is the caller's state after the last epoch, ``best`` the ``params``
    of the epoch with the best validation score (None without scores), ``last`` the
    last :class:`Epoch`.
    """

    carry: object
    n_iter: int
    converged: bool
    curve: list = field(default_factory=list)
    scores: list = field(default_factory=list)
    best_score: float | None = None
    best: object = None
    last: Epoch | None = None


def run_epochs(
    one_epoch,
    carry,
    stopping,
    *,
    max_iter,
    reduce_step=None,
    verbose=0,
    name="sgd",
    callback=None,
):
    """Run epochs until the stopping rule says so or ``max_iter`` is reached.

    Parameters
    ----------
    one_epoch : callable
        ``one_epoch(carry, epoch) -> (carry, Epoch)``: one pass over the data, with
        ``epoch`` 1-based.
    carry : object
        The caller's state (iterate, optimizer state), threaded through the calls.
    stopping : Stopping
        The stopping rule.
    max_iter : int
        Number of epochs at most.
    reduce_step : callable or None, default=None
        ``reduce_step(carry, divisor) -> carry``: divide the step size, when the
        rule says ``"reduce"``; needed only by an adaptive rule.
    verbose : int, default=0
        Print one line per epoch (epoch, loss, step size, time) when positive.
    name : str, default="sgd"
        The solver's name in the log lines.
    callback : callable or None, default=None
        Called as ``callback(epoch, report)`` after each epoch, ``report`` the
        :class:`Epoch`.

    Returns
    -------
    result : EpochsResult
        The last carry, the number of epochs, whether the rule stopped the run, the
        loss curve and the validation scores.
    """
    state, out = stopping.init(), EpochsResult(carry, 0, False)
    start_time = time.perf_counter()
    for epoch in range(1, max_iter + 1):
        out.carry, report = one_epoch(out.carry, epoch)
        out.n_iter, out.last = epoch, report
        out.curve.append(report.loss)
        state, action = stopping.update(state, report.loss, report.score, report.eta)
        if report.score is not None:
            out.scores.append(report.score)
            out.best_score = state.best_score
            if state.new_best:
                out.best = report.params
        if verbose:
            _log(name, epoch, report, stopping, state, action, start_time)
        if callback is not None:
            callback(epoch, report)
        if action == "reduce":
            out.carry = reduce_step(out.carry, stopping.reduction)
        elif action == "stop":
            out.converged = True
            break
    return out


def _log(name, epoch, report, stopping, state, action, start_time):
    """Print the line of an epoch: loss, step size, score and the stopping measure."""
    extra = "" if report.score is None else f"  validation score {report.score:.6f}"
    stop = ""
    tol, patience = stopping.tol, stopping.n_iter_no_change
    if tol is not None and math.isfinite(tol):
        # Epochs in a row without an improvement by tol (all of them, on a reduction).
        count = patience if action == "reduce" else state.no_improvement
        stop = f"  no improvement by tol={tol:g}: {count}/{patience}"
    print(
        f"[{name}] epoch {epoch:4d}  loss {report.loss:.8e}  "
        f"eta {report.eta:.3e}{extra}{stop}  {time.perf_counter() - start_time:.2f}s"
    )
