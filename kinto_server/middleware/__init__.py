"""Pyramid tweens wrapping every request, outermost first: CORS, URL
normalisation, body size limit, then service-wide headers and read-only mode."""

from pyramid.tweens import INGRESS

CORS = "kinto_server.middleware.cors.cors_tween_factory"
REDIRECTS = "kinto_server.middleware.redirects.redirects_tween_factory"
SERVICE_STATE = "kinto_server.middleware.service_state.service_state_tween_factory"
LIMITS = "kinto_server.middleware.limits.body_size_tween_factory"


def includeme(config):
    config.add_tween(CORS, under=INGRESS)
    config.add_tween(REDIRECTS, under=CORS)
    config.add_tween(LIMITS, under=REDIRECTS, over=SERVICE_STATE)
    config.add_tween(SERVICE_STATE, under=REDIRECTS)
