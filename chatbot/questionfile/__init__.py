"""Question files: parsing, validation and rendering of the posts (pure)."""
