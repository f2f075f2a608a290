from setuptools import find_packages, setup

setup(
    name="kinto_server",
    version="0.1.0",
    description="A Kinto-compatible HTTP storage server: store, sync and share JSON data.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=[*find_packages(exclude=["tests", "tests.*", "migrations", "bench", "bench.*"]), "kinto_server.migrations"],
    # The top-level migrations/ folder ships inside the package.
    package_dir={"kinto_server.migrations": "migrations"},
    package_data={
        "kinto_server.migrations": ["*/*/*.sql"], "kinto_server.scripts": ["*.template"],
        "kinto_server.plugins.admin": ["static/*.*", "static/js/*.js"],
    },
    include_package_data=False,
    python_requires=">=3.10",
    install_requires=[
        "pyramid>=2.0",
        "cornice>=6.0",
        "colander>=2.0",
        "sqlalchemy>=2.0",
        "waitress>=2.1",
        "ujson>=5.0",
        "jsonpatch>=1.32",
        "jsonschema>=4.18",
        "referencing",
        "bcrypt>=4.0",
    ],
    extras_require={
        "postgresql": ["psycopg2-binary>=2.9"],
        # The shared cache backends (kinto.cache_backend = redis / memcached):
        # the Redis project's client, and Pinterest's pure-Python memcached one.
        "redis": ["redis>=5"],
        "memcached": ["pymemcache>=4"],
        # kinto.plugins.prometheus: the Prometheus project's client (its multiprocess mode serves workers).
        "monitoring": ["prometheus-client>=0.20"],
        # kinto.plugins.openid with an audience: JWT access tokens checked against
        # the provider's JWKS (signatures, expiry, audience: not code to write ourselves).
        "openid": ["pyjwt[crypto]>=2.8"],
        # kinto_attachment's files in an S3-compatible store: AWS's own client,
        # which speaks to any of them (MinIO, Ceph, R2...).
        "s3": ["boto3>=1.34"],
        "test": [
            "pytest>=8",
            "pytest-cov>=5",
            "webtest>=3",
            "kinto-http>=11",
            "openapi-spec-validator>=0.7",
            "hypothesis>=6",
            "schemathesis>=4.32,<5",
            "ruff>=0.5",
            # Drives Debian's Chromium for the browser tests (no browser download).
            "playwright>=1.40",
            # A real S3 HTTP server for the attachment store's tests (MinIO is in
            # neither Debian nor PyPI; moto's server speaks the same API).
            "moto[server]>=5",
        ],
    },
    entry_points={
        "paste.app_factory": ["main = kinto_server:main"],
        "console_scripts": ["kinto_server = kinto_server.scripts.cli:main"],
    },
)
