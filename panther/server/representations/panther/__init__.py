"""Representations of the panther v1 API."""
