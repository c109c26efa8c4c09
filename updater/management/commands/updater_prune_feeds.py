"""manage.py updater_prune_feeds [--older-than SECONDS]: delete the files of feeds whose imports ended."""

from django.core.management.base import BaseCommand

from jobs.management.cli import non_negative_float
from updater.services.retention import feed_files_prune


class Command(BaseCommand):
    help = (
        "Delete the stored files of feeds whose imports all ended more than --older-than seconds ago "
        "(default UPDATER_FEED_RETENTION_SECONDS). The Feed rows stay. Prints how many files went."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--older-than", type=non_negative_float, metavar="SECONDS")

    def handle(self, *args, **options) -> None:
        deleted = feed_files_prune(older_than=options["older_than"])
        self.stdout.write(f"deleted {deleted} feed file{'s' if deleted != 1 else ''}")
