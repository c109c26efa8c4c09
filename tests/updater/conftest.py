import pytest


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Stored feeds go to a directory of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
