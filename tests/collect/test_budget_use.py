"""What collection spent of each network's request budget, as ``chatbot status`` shows it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from chatbot.bot.loading import load_event
from chatbot.collect.budgetuse import KEEP, WINDOW, budget_use, record_pass
from chatbot.collect.pacing import HEADROOM, LIMITS
from chatbot.sandbox.runner import Sandbox
from tests.collect.test_coverage import live_event, run, sandbox  # noqa: F401 (fixture)
from tests.factories import make_plan

START = datetime(2026, 12, 7, 16, 0, tzinfo=UTC)

# (seconds after START, requests), in the order passes happen
passes = st.lists(st.tuples(st.integers(0, 7200), st.integers(0, 60)), max_size=40).map(sorted)


def busiest_by_hand(made: list[tuple[datetime, int]]) -> int:
    """The most requests in five minutes beginning at any minute, counted by minute."""
    minutes = {when.replace(second=0) for when, _ in made}
    best = 0
    for first in minutes:
        total = sum(n for when, n in made if first <= when.replace(second=0) < first + WINDOW)
        best = max(best, total)
    return best


@given(passes)
def test_the_figures_are_those_of_the_passes_recorded(made_raw: list[tuple[int, int]]) -> None:
    made = [(START + timedelta(seconds=s), n) for s, n in made_raw]
    state: dict = {}
    for when, requests in made:
        state = record_pass(state, when, requests, None)
        json.dumps(state)  # stored as JSON
    now = made[-1][0] if made else START
    use = budget_use("mastodon", state, now)
    assert use.total == sum(n for _, n in made)
    # The busiest five minutes of the whole collection, never forgotten after an hour.
    assert use.busiest == busiest_by_hand([(w, n) for w, n in made if n])
    recent = [(w, n) for w, n in made if w.replace(second=0) > now - WINDOW]
    assert use.recent == sum(n for _, n in recent)
    kept = [key for key in state.get("minutes", {})]
    assert all(datetime.fromisoformat(key) > now - KEEP for key in kept)
    assert use.share == int(LIMITS["mastodon"][0] * HEADROOM)


def test_a_budget_being_waited_for_is_shown_until_it_refills() -> None:
    until = START + timedelta(minutes=3)
    state = record_pass({}, START, 150, until)
    assert budget_use("mastodon", state, START).blocked_until == until
    assert budget_use("mastodon", state, until + timedelta(seconds=1)).blocked_until is None
    line = budget_use("mastodon", state, START).line(lambda moment: moment.strftime("%H:%M"))
    assert "150 in the last 5 min of the collector's 150 (half of 300 per 5 min)" in line
    assert "busiest 5 min 150 (100%) from 16:00" in line
    assert "waiting for the budget until 16:03" in line


def test_status_shows_what_collection_spent_of_each_budget(
    engine: Engine,
    sandbox: Sandbox,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    event_id = live_event(engine, sandbox)
    code, output = run(engine, sandbox, "collect", str(event_id), "--once")
    assert code == 0, output
    code, output = run(engine, sandbox, "status", str(event_id), "--json")
    assert code == 0, output
    spent: dict[str, int] = {}  # what the coverage report says each source asked for
    for row in json.loads(output)["coverage"]["sources"]:
        spent[row["network"]] = spent.get(row["network"], 0) + row["requests"]
    budget = {use["network"]: use for use in json.loads(output)["budget"]}
    assert set(budget) == {"bluesky", "mastodon"}
    for network, use in budget.items():
        assert use["total"] == spent[network] > 0  # one server each: all of it the bot's own
        assert use["last_5_minutes"] == spent[network]
        assert use["share"] == int(LIMITS[network][0] * HEADROOM)
    code, output = run(engine, sandbox, "status", str(event_id))
    line = next(line for line in output.splitlines() if line.startswith("mastodon requests:"))
    assert f"{spent['mastodon']} in the last 5 min of the collector's 150" in line


def test_status_adds_up_the_chats_collected_at_once_on_one_budget(
    engine: Engine,
    sandbox: Sandbox,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    first = live_event(engine, sandbox)
    plan = make_plan(
        hashtag="otherchat", start=sandbox.clock.now() - timedelta(minutes=5),
        networks=("bluesky", "mastodon"),
    )  # fmt: skip
    second = load_event(engine, plan, source_path="questions/otherchat.md").event_id
    for event_id in (first, second):
        code, output = run(engine, sandbox, "collect", str(event_id), "--once")
        assert code == 0, output
    spent = {}
    for event_id in (first, second):
        code, output = run(engine, sandbox, "status", str(event_id), "--json")
        assert code == 0, output
        spent[event_id] = {use["network"]: use for use in json.loads(output)["budget"]}
    for network in ("bluesky", "mastodon"):
        together = (
            spent[first][network]["last_5_minutes"] + spent[second][network]["last_5_minutes"]
        )
        for event_id in (first, second):
            assert spent[event_id][network]["chats_collecting"] == 2
            assert spent[event_id][network]["all_chats_last_5_minutes"] == together
    code, output = run(engine, sandbox, "status", str(first))
    line = next(line for line in output.splitlines() if line.startswith("bluesky requests:"))
    together = spent[first]["bluesky"]["all_chats_last_5_minutes"]
    assert f"with the 1 other chat collected now {together} in the last 5 min" in line
