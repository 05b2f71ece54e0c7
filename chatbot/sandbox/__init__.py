"""Local stand-ins for Bluesky and Mastodon, a simulated crowd, and faults.

This is product code: ``chatbot demo`` and every integration test run the
unmodified ``atproto`` and ``Mastodon.py`` clients against these servers over
real HTTP on 127.0.0.1.
"""
