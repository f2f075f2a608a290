"""Request-scoped markers in the WSGI environ, shared across layers (the
batch view sets them, the transaction tween and the events read them), in a
module that imports nothing so that lower layers may use them."""

# A batch sub-request: it runs once, in a savepoint of the batch's transaction.
SUBREQUEST = "kinto_server.subrequest"
# The events of the request, sent once its transaction commits.
PENDING_EVENTS = "kinto_server.pending_events"
# A sub-request's events join its batch's (sent when the batch commits).
PARENT_PENDING_EVENTS = "kinto_server.parent_pending_events"
# A batch's memory of the lineages its record writes read (resources.target.LineageMemo).
LINEAGE_MEMO = "kinto_server.lineage_memo"
# The request's summary log fields (kinto_server.logs), for its batch's sub-requests.
LOG_FIELDS = "kinto_server.log_fields"
# Not in the environ but in the request's __dict__: its Identity, computed
# once (kinto_server.authentication.SecurityPolicy.identity).
IDENTITY_KEY = "_kinto_identity"
