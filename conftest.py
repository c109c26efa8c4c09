import os

# Tests run with a throwaway key and without a .env's DEBUG: what production runs, on SQLite by default.
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-a-secret")
os.environ.setdefault("DJANGO_DEBUG", "0")
