import configparser
import os
import subprocess
import sys
import time
import urllib.request

import pytest
from pyramid.paster import get_app
from webtest import TestApp

from kinto_server import __version__
from kinto_server.scripts import cli
from tests.support import auth


def test_version_prints_the_version(capsys):
    assert cli.main(["version"]) == 0
    assert capsys.readouterr().out.strip() == __version__


def test_init_writes_a_memory_config(tmp_path):
    ini = tmp_path / "kinto.ini"
    assert cli.main(["init", "--ini", str(ini), "--backend", "memory"]) == 0
    config = configparser.ConfigParser()
    config.read(ini)
    assert config["app:main"]["kinto.storage_backend"] == "memory"
    assert len(config["app:main"]["kinto.userid_hmac_secret"]) == 64


def test_init_writes_a_postgresql_config(tmp_path):
    ini = tmp_path / "kinto.ini"
    url = "postgresql://postgres@127.0.0.1/other"
    assert cli.main(["init", "--ini", str(ini), "--backend", "postgresql", "--database-url", url]) == 0
    config = configparser.ConfigParser(interpolation=None)
    config.read(ini)
    assert config["app:main"]["kinto.permission_backend"] == "postgresql"
    assert config["app:main"]["kinto.storage_url"] == url


def test_init_asks_for_the_backend_and_defaults_to_a_sqlite_file_next_to_the_ini(tmp_path, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda prompt: "")
    ini = tmp_path / "kinto.ini"
    assert cli.main(["init", "--ini", str(ini)]) == 0
    text = ini.read_text()
    assert "kinto.cache_backend = sqlite" in text
    assert "kinto.storage_url = sqlite:///%(here)s/data/kinto.sqlite" in text
    assert "kinto.changes.stream.listen = 127.0.0.1:8889" in text
    # Any free port for the change stream here (8889 may be taken).
    ini.write_text(text.replace("127.0.0.1:8889", "127.0.0.1:0"))
    app = TestApp(get_app(str(ini), "main"))
    app.put("/v1/buckets/b", headers=auth("alice"), status=201)
    app.app.registry.stream_server.stop()
    again = TestApp(get_app(str(ini), "main"))  # As after a restart.
    again.app.registry.stream_server.stop()
    assert again.get("/v1/buckets/b", headers=auth("alice")).json["data"]["id"] == "b"
    assert (tmp_path / "data" / "kinto.sqlite").is_file()


def test_init_refuses_unknown_answer(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("builtins.input", lambda prompt: "mysql")
    assert cli.main(["init", "--ini", str(tmp_path / "k.ini")]) == 2
    assert "Unknown backend" in capsys.readouterr().err


def test_init_does_not_overwrite_without_force(tmp_path, capsys):
    ini = tmp_path / "kinto.ini"
    ini.write_text("keep")
    assert cli.main(["init", "--ini", str(ini), "--backend", "memory"]) == 1
    assert ini.read_text() == "keep"
    assert cli.main(["init", "--ini", str(ini), "--backend", "memory", "--force"]) == 0


@pytest.mark.parametrize("argv", [[], ["nosuch"], ["init", "--backend", "mysql"], ["start", "--port", "x"]])
def test_bad_arguments_exit_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for command in ("init", "start", "version"):
        assert command in out


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_start_serves_the_config(tmp_path):
    ini = tmp_path / "kinto.ini"
    cli.main(["init", "--ini", str(ini), "--backend", "memory"])
    port = _free_port()
    command = [sys.executable, "-m", "kinto_server.scripts.cli", "start", "--ini", str(ini), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/__lbheartbeat__", timeout=1) as response:
                    assert response.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=10)


COMMANDS = ["init", "migrate", "start", "purge-deleted", "create-user", "flush-cache", "version"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"usage: kinto_server {command}" in capsys.readouterr().out
