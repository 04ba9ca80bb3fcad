# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Runners of scikit-learn's own test suites against skgd's estimators."""
