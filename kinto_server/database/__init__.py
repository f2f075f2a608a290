"""Transactions of the backends' clients, whatever the backend: the request
transaction tween (:mod:`.transaction`), the memory backends' undo journal
(:mod:`.journal`), and each database's own client (:mod:`.postgresql`, its
migrations in :mod:`.migrations`). A client offers ``start_request(readonly)``,
``finish_request(commit)`` and ``execute``; it raises the domain errors
below (and ``BackendUnavailable``), never its driver's.
"""

import contextlib


class ConcurrentWriteConflict(Exception):
    """The database aborted the transaction because of a concurrent one; the
    whole request can be tried again."""


class RequestTransactions:
    """The request-transaction half of a database client, for a client whose
    ``_transaction(read_only)`` makes its transaction object (with
    ``execute``, ``start_nested``, ``finish_nested`` and ``finish``), and
    whose ``_execute_alone(sql, params)`` runs a statement outside requests.

    A request started while another runs in this thread (a batch
    sub-request) runs in a savepoint of the outer transaction, so that it
    succeeds or fails on its own while the batch commits once."""

    def start_request(self, readonly):
        """Mark the start of a request; the transaction opens on first use."""
        current = getattr(self._local, "current", None)
        if current is None:
            self._local.current = self._transaction(readonly)
        else:
            current.start_nested()

    def finish_request(self, commit):
        """Commit (or roll back) the request's transaction or savepoint."""
        current = self._local.current
        if current.savepoints:
            current.finish_nested(commit)
            return
        self._local.current = None
        current.finish(commit)

    def execute(self, sql, params=None):
        """Run one statement; return its rows as a list. In a request, it
        joins the request's transaction; otherwise it commits on its own."""
        current = getattr(self._local, "current", None)
        if current is not None:
            return current.execute(sql, params)
        return self._execute_alone(sql, params)

    @contextlib.contextmanager
    def connect(self):
        """A write transaction for several statements outside requests
        (scripts, migrations); yields an object with ``execute(sql, params)``."""
        transaction = self._transaction(False)
        try:
            yield transaction
        except BaseException:
            transaction.finish(commit=False)
            raise
        transaction.finish(commit=True)
