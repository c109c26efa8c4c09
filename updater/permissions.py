"""Who may write the catalogue: model permissions on the updater's models, checked by its services
(so the API, the upload page and the `import_feed` handler agree). `user=None` is the system
(`updater_import`, run by whoever has the shell); an anonymous user may do nothing.

- import a feed (API, page, or enqueueing `updater.import_feed` directly): `updater.add_feed` and
  `updater.change_product`;
- the synchronous baseline, which holds a web worker for the whole import: the same, and staff;
- read the catalogue: any signed-in user."""

from __future__ import annotations

from jobs.exceptions import PermissionDenied

IMPORT_PERMISSIONS = ("updater.add_feed", "updater.change_product")


def feed_may_import(user) -> bool:
    if user is None:
        return True
    return user.is_authenticated and user.has_perms(IMPORT_PERMISSIONS)


def feed_may_import_sync(user) -> bool:
    return user is None or (feed_may_import(user) and user.is_staff)


def feed_check_import(*, user, sync: bool = False) -> None:
    """Raise PermissionDenied unless `user` may import feeds (in the request, with `sync`)."""
    if not (feed_may_import_sync(user) if sync else feed_may_import(user)):
        what = "run the synchronous import" if sync else "import feeds"
        raise PermissionDenied(f"You do not have permission to {what}.")
