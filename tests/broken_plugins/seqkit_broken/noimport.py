"""Fails to import: it needs a module that is not installed."""

import seqkit_no_such_dependency  # noqa: F401
