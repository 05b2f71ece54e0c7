"""The collector's own count of Mastodon's paging requests (300 per 15 minutes) beside the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatbot.collect.pacing import HEADROOM, PAGING, PAGING_LIMIT, OutOfBudget, Pacer


def test_paging_requests_draw_on_their_own_budget_as_well() -> None:
    clock = [datetime(2030, 1, 1, tzinfo=UTC)]
    pacer = Pacer()
    call = pacer.caller("mastodon", lambda: clock[0], lambda seconds: None)
    allowed = int(PAGING_LIMIT[0] * HEADROOM)  # the collector keeps half for the bot
    for _ in range(allowed):
        call(lambda: None, paging=True)
    # Five minutes on, every request may go again, but only a third of the pages: their
    # budget refills over 15 minutes.
    clock[0] += timedelta(minutes=5)
    for _ in range(allowed // 3):
        call(lambda: None, paging=True)
    with pytest.raises(OutOfBudget) as stop:
        call(lambda: None, paging=True)
    assert stop.value.network == "mastodon" + PAGING
    call(lambda: None)  # a request that does not page still goes


def test_a_page_spends_both_budgets() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    pacer = Pacer()
    call = pacer.caller("mastodon@other.example", lambda: now, lambda seconds: None)
    call(lambda: None, paging=True)
    call(lambda: None)
    assert pacer.budget("mastodon@other.example").tokens == 150 - 2
    assert pacer.budget("mastodon@other.example" + PAGING).tokens == 150 - 1
