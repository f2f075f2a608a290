"""``kinto_server index``: declare, list and drop the data fields a
collection is sorted by; on SQLite and PostgreSQL."""

import pytest

from kinto_server.scripts import cli
from tests.backends import BACKENDS, cli_ini

C = "/buckets/b/collections/c"


@pytest.fixture(params=[b for b in BACKENDS if b != "memory"])
def ini(request, tmp_path):
    path = str(cli_ini(tmp_path, request.param))
    yield path
    cli.main(["index", "--ini", path, "--bucket", "b", "--collection", "c", "--drop", "n", "meta.rank"])


def index(capsys, *argv):
    code = cli.main(["index", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_fields_are_indexed_listed_and_dropped(ini, capsys):
    code, out, _ = index(capsys, "--ini", ini, "--bucket", "b", "--collection", "c", "n", "meta.rank")
    assert code == 0
    assert f"Indexed 'n' of {C}: sorts on it (_sort=n, -n) and its equality filters read indexes." in out
    assert index(capsys, "--ini", ini, "--list")[1].splitlines() == [f"{C}: meta.rank", f"{C}: n"]
    code, out, _ = index(capsys, "--ini", ini, "--bucket", "b", "--collection", "c", "--drop", "n")
    assert code == 0 and f"Dropped the index of 'n' of {C}." in out
    assert index(capsys, "--ini", ini, "--list")[1].splitlines() == [f"{C}: meta.rank"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bucket", "b", "--collection", "c", "last_modified"], "Cannot index 'last_modified' is not a data field"),
        (["--bucket", "b", "n"], "give --bucket, --collection and the fields to index (or --list)"),
    ],
)
def test_mistakes_are_one_clear_line(ini, capsys, argv, message):
    code, _, err = index(capsys, "--ini", ini, *argv)
    assert code == 1
    assert message in err


def test_a_memory_backend_has_nothing_to_index(tmp_path, capsys):
    path = tmp_path / "memory.ini"
    cli.main(["init", "--ini", str(path), "--backend", "memory"])
    code, _, err = index(capsys, "--ini", str(path), "--bucket", "b", "--collection", "c", "n")
    assert code == 1 and "has no index to keep" in err
