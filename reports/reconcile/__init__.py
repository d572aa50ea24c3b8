"""Reconciliation of a school with one system: read it afresh, compare with the store, store the
differences (see :mod:`.engine`)."""

from reports.reconcile.engine import Outcome, Reconciler, reconcile
from reports.reconcile.scope import Request

__all__ = ["Outcome", "Reconciler", "Request", "reconcile"]
