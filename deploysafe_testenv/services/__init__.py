"""One module per real service the harness can start."""
