import pytest
from django.contrib.auth.models import Permission

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Stored feeds go to a directory of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def user(db):
    """Here the ordinary user is a catalogue editor: staff holding the import permissions (the
    synchronous baseline needs staff). tests/test_permissions.py walks the other roles."""
    editor = UserFactory(is_staff=True)
    editor.user_permissions.add(*Permission.objects.filter(codename__in=["add_feed", "change_product"]))
    return editor
