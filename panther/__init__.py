"""Stone Panther: a mutually endorsed source of truth for the services carriers sell each
other, from inventory reports to agreed and settled bills."""

import sys as _sys

# Importing py_ecc (which eth-account imports) raises the interpreter's recursion limit to
# 100,000 as a side effect; in a server that turns a deeply nested JSON body into a C stack
# overflow (a crash) instead of a RecursionError. Import it first here and put the limit back.
_limit = _sys.getrecursionlimit()
import py_ecc as _py_ecc  # noqa: E402, F401

_sys.setrecursionlimit(_limit)
del _limit
