"""Transactions of the backends' clients, whatever the backend: the request
transaction tween (:mod:`.transaction`), the memory backends' undo journal
(:mod:`.journal`), and each database's own client (:mod:`.postgresql`, its
migrations in :mod:`.migrations`). A client offers ``start_request(readonly)``,
``finish_request(commit)`` and ``execute``; it raises the domain errors
below (and ``BackendUnavailable``), never its driver's.
"""


class ConcurrentWriteConflict(Exception):
    """The database aborted the transaction because of a concurrent one; the
    whole request can be tried again."""
