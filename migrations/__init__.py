"""Versioned schema migrations, one folder per backend and component.

Installed as ``kinto_server.migrations`` (see ``package_dir`` in setup.py),
so that a wheel or sdist carries them: ``kinto_server migrate`` finds them
with ``importlib.resources``, wherever the package is installed.
"""
