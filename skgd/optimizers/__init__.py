# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Step rules (SGD, momentum, Adam) and learning-rate schedules of the minibatch solver.

Rules follow optax's ``init``/``update`` contract; schedules map the 1-based update
index to a step size with SGDRegressor's formulas.
"""

from skgd.optimizers._rules import SGD, Adam, Momentum, adam, sgd
from skgd.optimizers._schedules import (
    Adaptive,
    Constant,
    InvScaling,
    Optimal,
    PerRow,
    get_schedule,
    optimal,
)

__all__ = [
    "SGD",
    "Adam",
    "Adaptive",
    "Constant",
    "InvScaling",
    "Momentum",
    "Optimal",
    "PerRow",
    "adam",
    "get_schedule",
    "optimal",
    "sgd",
]
