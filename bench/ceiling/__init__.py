"""The ceiling for the enqueue API: a bare DRF endpoint that inserts one row, with the same
middleware, authentication and database as the product. Installed only by bench/settings.py."""
