"""Layer 3: the plugin contract and how plugins are found.

Hook specifications, the interfaces a cell, topology, task, trainer, executor and suite
implement, entry-point discovery and the registry. No torch at import."""
