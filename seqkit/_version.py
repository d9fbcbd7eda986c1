"""seqkit's version, in a module of its own so that the registry and the CLI read it without
importing the public package."""

__version__ = "0.1.0"
