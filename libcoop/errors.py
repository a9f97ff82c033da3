"""The errors a person can act on, and the one base they share.

Every step raises its own class (``BuildFailed``, ``PublishBlocked``, ``RunInProgress``...), so
that code can tell them apart; each derives from ``LibcoopError`` so that the ``libcoop`` command
can print any of them as it is, without a traceback. This module imports nothing of libcoop: every
layer may raise these.
"""

from __future__ import annotations


class LibcoopError(Exception):
    """An error whose message is written for the person who reads it: what happened, to which
    file, run or target, and what to do next, in words. ``libcoop`` prints it as it is, with no
    traceback; an exception that is not one of these is a bug and keeps its traceback."""


class NothingToRollBack(LibcoopError):
    """No earlier build (a kept file build, or a DuckLake snapshot) to go back to."""
