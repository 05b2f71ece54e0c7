"""Commands for question files: check, preview, load."""
