"""Conformance checks of Stone Panther against the official MEF and TM Forum specifications.

Test-support code: it reads the reference copies in the shared standards folder and is never
imported by the server.
"""
