"""The step's inputs and outputs as pure functions: what Workflow Builder may send, and a summary
that a "Send a message" step can post without pinging anyone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.features.workflow.step import MAX_LISTED, StepAsk, read_inputs, step_outputs, summary
from bot.sessions.listing import Listing
from bot.sessions.model import Session
from bot.sessions.modules import ModuleRef

KOLKATA = ZoneInfo("Asia/Kolkata")
NOW = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
MODULE = ModuleRef("c1", "b1", "m1", "GDPR <Basics>", "Data & Privacy", "All staff")


def session(n: int, start: datetime | None, **fields: Any) -> Session:
    end = start + timedelta(hours=1) if start else None
    return Session(f"s{n}", "m1", fields.pop("name", f"Session {n}"), start, end, "", "", "", **fields)


def listing(*sessions: Session, **fields: Any) -> Listing:
    return Listing(MODULE, sessions, None, NOW, **fields)


@pytest.mark.parametrize(
    ("inputs", "asked"),
    [
        ({"module": "  gdpr   basics "}, StepAsk("gdpr basics", 7)),
        ({"module": "gdpr", "days": 1}, StepAsk("gdpr", 1)),
        ({"module": "gdpr", "days": 60.0}, StepAsk("gdpr", 60)),
        ({"module": "gdpr", "days": " 30 "}, StepAsk("gdpr", 30)),
        ({"module": "gdpr", "days": ""}, StepAsk("gdpr", 7)),
    ],
)
def test_inputs_as_workflow_builder_sends_them(inputs: dict[str, Any], asked: StepAsk) -> None:
    assert read_inputs(inputs) == asked


@pytest.mark.parametrize("days", [0, 61, -3, 2.5, "a week", True, [7], float("nan"), "inf", "-inf", 1e308])
def test_days_that_are_not_1_to_60_whole_days_are_refused(days: Any) -> None:
    refusal = read_inputs({"module": "gdpr", "days": days})
    assert isinstance(refusal, str)
    assert refusal.endswith("is not a number of days: give a whole number from 1 to 60.")


@pytest.mark.parametrize("inputs", [{}, {"module": "   "}, {"module": 42}])
def test_a_missing_module_is_refused(inputs: dict[str, Any]) -> None:
    assert read_inputs(inputs) == (
        "The step needs a module: its name, an alias or its course/batch/module ids, "
        "as `/sessions` takes them."
    )


def test_outputs_name_times_in_the_organisations_zone() -> None:
    start = datetime(2025, 3, 12, 4, 30, tzinfo=UTC)  # 10:00 in Kolkata
    unparsed = Session("s2", "m1", "Session 2", None, None, "32-13-2025", "10:00", "11:00")
    sessions = (session(1, start, trainer="Asha Rao", room="B2"), unparsed)

    outputs = step_outputs(listing(*sessions), 7, KOLKATA)

    assert outputs["count"] == 2
    assert outputs["next_start"] == int(start.timestamp())
    assert outputs["summary"].split("\n") == [
        "*GDPR &lt;Basics&gt;*: 2 upcoming sessions in the next 7 days",
        "• Wed 12 Mar 2025 10:00–11:00 IST · Session 1 · Trainer: Asha Rao · Room: B2",
        "• 32-13-2025 10:00–11:00 · Session 2",
    ]


def test_zoho_text_in_the_summary_cannot_ping_link_or_mention() -> None:
    hostile = session(
        1,
        NOW + timedelta(days=1),
        name="<!channel> @here <https://evil.example|click> <@U123>",
        trainer="@everyone",
    )

    text = summary(listing(hostile), 7, UTC)

    assert "<" not in text
    assert ">" not in text.replace("&gt;", "")
    for word in ("@here", "@everyone", "https://"):
        assert word not in text


def test_a_long_window_lists_the_first_sessions_and_counts_the_rest() -> None:
    sessions = tuple(session(n, NOW + timedelta(hours=n + 1)) for n in range(MAX_LISTED + 5))

    lines = summary(listing(*sessions), 60, UTC).split("\n")

    assert len(lines) == 1 + MAX_LISTED + 1
    assert lines[-1] == "…and 5 more."


def test_old_data_says_why_and_as_of_when() -> None:
    old = listing(session(1, NOW + timedelta(days=1)), problem="Zoho is down.", old=True)

    last = summary(old, 7, KOLKATA).split("\n")[-1]
    assert last == "_Zoho is down. Sessions as of Mon 10 Mar 2025 15:30 IST._"
