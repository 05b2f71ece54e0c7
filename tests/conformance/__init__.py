"""One suite against the Bluesky sandbox and Bluesky's reference servers (docs/conformance.md)."""
