# Authors: The skgd developers
# SPDX-License-Identifier: BSD-3-Clause
"""Benchmarks of skgd against the estimators its users would otherwise pick.

Run ``python -m benchmarks [--quick] [--case N ...]``; see ``benchmarks/README.md``.
"""
