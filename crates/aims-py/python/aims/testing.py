"""Helpers for testing policies deterministically.

:class:`PolicyTester` is a guard whose clock moves only when told to and whose records stay in
memory, so rate limits and budgets can be tested across their windows.
"""

from ._native import PolicyTester

__all__ = ["PolicyTester"]
