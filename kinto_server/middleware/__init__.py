"""Pyramid tweens wrapping every request, outermost first: its log line
(``request.summary``) and metrics (when a metrics plugin is on), the operator's
service-wide headers (Backoff, end-of-service Alert: on every answer,
preflights and redirects included), CORS, URL normalisation, body size
limit, then the service state (end of service passed, Accept, read-only),
and the request's transaction, whose events are sent by the after-commit
tween above it. Every tween is ordered here, in one place."""

from pyramid.tweens import INGRESS

SERVICE_HEADERS = "kinto_server.middleware.service_state.service_headers_tween_factory"
CORS = "kinto_server.middleware.cors.cors_tween_factory"
REDIRECTS = "kinto_server.middleware.redirects.redirects_tween_factory"
SERVICE_STATE = "kinto_server.middleware.service_state.service_state_tween_factory"
LIMITS = "kinto_server.middleware.limits.body_size_tween_factory"
AFTER_COMMIT = "kinto_server.events.after_commit_tween_factory"
TRANSACTION = "kinto_server.database.transaction.transaction_tween_factory"
METRICS = "kinto_server.metrics.metrics_tween_factory"
REQUEST_LOG = "kinto_server.logs.request_log_tween_factory"


def includeme(config):
    config.add_tween(REQUEST_LOG, under=INGRESS)
    config.add_tween(METRICS, under=REQUEST_LOG)
    config.add_tween(SERVICE_HEADERS, under=METRICS)
    config.add_tween(CORS, under=SERVICE_HEADERS)
    config.add_tween(REDIRECTS, under=CORS)
    config.add_tween(LIMITS, under=REDIRECTS, over=SERVICE_STATE)
    config.add_tween(SERVICE_STATE, under=REDIRECTS)
    # Events are sent once the request's transaction (under them) commits.
    config.add_tween(AFTER_COMMIT, under=CORS, over=SERVICE_STATE)
    config.add_tween(TRANSACTION, under=SERVICE_STATE)
