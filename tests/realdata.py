"""Where the real recorded API payloads live: ``../shared/fixtures/real`` beside the checkout.

``CHATBOT_REAL_FIXTURES`` overrides the place.  Tests that read them skip with
that reason when the folder is missing (a contributor without ``shared/``);
CI always has it.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REAL_FIXTURES = Path(
    os.environ.get("CHATBOT_REAL_FIXTURES", ROOT.parent / "shared" / "fixtures" / "real")
)

needs_real_fixtures = pytest.mark.skipif(
    not REAL_FIXTURES.is_dir(),
    reason=f"the real recordings are not at {REAL_FIXTURES} (set CHATBOT_REAL_FIXTURES)",
)
