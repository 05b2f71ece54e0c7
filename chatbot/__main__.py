"""Allow ``python -m chatbot``."""

from chatbot.cli import main

if __name__ == "__main__":
    main()
