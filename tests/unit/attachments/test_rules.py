"""kinto-attachment's settings, read as it reads them."""

import pytest

from kinto_server.plugins.attachments.rules import Settings, resolve_extensions
from kinto_server.settings import ConfigurationError


def test_per_bucket_then_per_collection_settings_override_the_global_ones():
    settings = Settings(
        {
            "attachment.max_size_bytes": "100",
            "attachment.keep_old_files": "true",
            "attachment.resources.blog.max_size_bytes": "200",
            "attachment.resources.blog.articles.max_size_bytes": "300",
            "attachment.resources.blog.articles.keep_old_files": "false",
        }
    )
    assert settings.for_collection("other", "c").max_size_bytes == 100
    assert settings.for_collection("blog", "c").max_size_bytes == 200
    articles = settings.for_collection("blog", "articles")
    assert (articles.max_size_bytes, articles.keep_old_files) == (300, False)
    assert settings.for_collection("blog", "c").keep_old_files is True


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("attachment.resources.a.b.c.max_size_bytes", "1", "expected attachment.resources.<bucket>[.<collection>]"),
        ("attachment.resources.blog.folder", "x", "'folder' cannot be set per bucket or collection"),
        ("attachment.max_size_bytes", "ten", "kinto.attachment.max_size_bytes"),
        ("attachment.mimetypes", ".pem", "is not .ext:media/type"),
    ],
)
def test_a_setting_it_cannot_use_stops_the_start_with_its_name(key, value, message):
    with pytest.raises(ConfigurationError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        Settings({key: value})


def test_extension_groups_and_media_types():
    assert resolve_extensions("images+pdf") >= {"png", "jpg", "pdf"}
    assert resolve_extensions("any") == frozenset()
    rules = Settings(
        {"attachment.extensions": "any", "attachment.mimetypes": ".bin:application/x-thing"}
    ).for_collection("b", "c")
    assert rules.extension_allowed("no-extension")
    assert rules.mimetype("a.bin", "application/octet-stream") == "application/x-thing"
    assert rules.mimetype("a.pem", "text/plain") == "application/x-pem-file"  # kinto-attachment's own
    assert rules.mimetype("a.txt", "text/custom") == "text/custom"  # as the client sent it
    assert rules.mimetype("a.txt", "") == "text/plain"
    default = Settings({}).for_collection("b", "c")
    assert default.extension_allowed("A.PNG") and not default.extension_allowed("a.exe")
