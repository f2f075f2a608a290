import pytest

from tests.s3_server import s3_store_for


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """Each kind of attachment file store, empty."""
    if request.param == "local":
        from kinto_server.plugins.attachments.files import LocalFileStore

        return LocalFileStore(tmp_path / "files")
    return s3_store_for(request.getfixturevalue("s3_server"))
