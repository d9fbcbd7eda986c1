"""The `seqkit` command line (click)."""
