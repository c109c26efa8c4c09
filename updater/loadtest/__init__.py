"""The load demonstration behind `manage.py simulate`: concurrent HTTP clients against a running
server, first through the job queue, then through the synchronous endpoint it replaces."""
