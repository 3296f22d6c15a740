"""Helpers of bench/bench_peers.py: the match profile's rules on top of peer libraries."""
