from tests.integration.cluster import two_clusters, worker_cluster  # noqa: F401  (fixtures)
