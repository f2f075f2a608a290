"""The lowest ceiling: a WSGI function (no framework) returning the same
small JSON body as bare_pyramid.py, served by waitress like the real
servers. Usage: bare_wsgi.py PORT THREADS"""

import sys

import waitress
from bare_pyramid import BODY

HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]


if __name__ == "__main__":
    waitress.serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=int(sys.argv[2]), _quiet=True)
