"""The ceiling of the stack: a bare Pyramid view returning a small JSON body,
served by waitress like the real servers. Usage: bare_pyramid.py PORT THREADS"""

import sys

import ujson
import waitress
from pyramid.config import Configurator
from pyramid.response import Response

BODY = ujson.dumps({"data": {"id": "r1", "last_modified": 1700000000000, "title": "hello"}}).encode()


def hello(request):
    response = Response(body=BODY)
    response.headers["Content-Type"] = "application/json"
    return response


def make_app():
    config = Configurator()
    config.add_route("hello", "/")
    config.add_view(hello, route_name="hello")
    return config.make_wsgi_app()


if __name__ == "__main__":
    waitress.serve(make_app(), host="127.0.0.1", port=int(sys.argv[1]), threads=int(sys.argv[2]), _quiet=True)
