"""How each network reads a post's text: lengths, links, tags, mentions and record keys (pure).

One implementation of every text rule, shared by the bot's client side and
the sandbox servers, so the two can't disagree:

- :mod:`chatbot.text.unicode`: graphemes, UTF-8 and UTF-16 lengths and offsets;
- :mod:`chatbot.text.bluesky`: Bluesky's rich-text facets (tags, mentions, links);
- :mod:`chatbot.text.tid`: timestamp identifiers, Bluesky's record keys;
- :mod:`chatbot.text.mastodon`: Mastodon's links, tags, mentions and length;
- :mod:`chatbot.text.length`: each network's post length limits.

Nothing here imports the platforms, the sandbox, storage or click.
"""
