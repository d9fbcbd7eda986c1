"""seqkit's built-in plugins, one module per family, loaded through the `seqkit`
entry-point group exactly like a third party's."""
