"""Benchmarks of i2i_nb: ratios against baselines measured in the same process (see README)."""
