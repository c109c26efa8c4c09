"""`make bench`: the benchmarks of issue 5. `bench/run.py` is the entry point; see docs/BENCHMARKS.md."""
