"""seqkit plugins that misbehave on purpose, one way per module (see pyproject.toml)."""
