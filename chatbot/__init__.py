"""chatbot: host hashtag chats on Bluesky and Mastodon."""

__version__ = "0.1.0"

__all__ = ["__version__"]
