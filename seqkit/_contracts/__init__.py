"""Layer 6: what each kind of plugin promises, checked (cheaply before every run, fully
by `seqkit check` and `seqkit.testing`)."""
