from tests.integration.cluster import three_clusters, two_clusters, worker_cluster  # noqa: F401  (fixtures)
