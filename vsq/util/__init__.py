"""Small helpers every package uses: atomic writes, paths in messages, versions of the stack."""
