from tests.integration.cluster import worker_cluster  # noqa: F401  (fixture)
