"""The Workflow Builder step over signed HTTP: Slack sends `function_executed` for a run of the
step declared in manifest.yml, and the bot ends the run once, as Slack received it.

The bot runs on the FakeClock of tests/conftest.py (10:00 UTC, Monday 10 March 2025) with the
sample org, whose zone is Europe/Paris.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bot.features.workflow.step import CALLBACK_ID
from tests.conftest import START
from tests.fakes.signing import JSON_CONTENT_TYPE, event_body, signed_headers
from tests.fakes.slack_functions import FunctionRun
from tests.slack.harness import SECRET, SlackBot

ROOT = Path(__file__).resolve().parents[3]
STEP = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))["functions"][CALLBACK_ID]
PARIS = ZoneInfo("Europe/Paris")
TOOLS = ["Laptop &amp; accounts setup", "Slack and e-mail etiquette", "Expense tool walkthrough"]


async def run_step(bot: SlackBot, inputs: dict[str, Any]) -> FunctionRun:
    """A workflow reaches the step: Slack's event, signed; the run once the bot has ended it."""
    event = bot.slack.run_step(CALLBACK_ID, STEP, inputs)
    body = event_body(event)
    sent = await bot.post(body, signed_headers(body, SECRET, content_type=JSON_CONTENT_TYPE))
    assert sent.status == 200
    run_id = event["function_execution_id"]
    return await bot.slack.wait_for_async(
        lambda: (run := bot.slack.step_run(run_id)).state != "running" and run, what="the run to end"
    )


def session_calls(bot: SlackBot) -> list[int]:
    return [r.status for r in bot.zoho.calls() if r.path.endswith("/sessions")]


async def test_a_known_module_completes_with_its_sessions(walked: SlackBot) -> None:
    run = await run_step(walked, {"module": "tools & systems", "days": 14})

    assert run.state == "completed", run.error
    outputs = run.outputs or {}
    assert outputs["count"] == 3
    lines = outputs["summary"].split("\n")
    assert lines[0] == "*Tools &amp; Systems*: 3 upcoming sessions in the next 14 days"
    assert [line.split(" · ")[1] for line in lines[1:]] == TOOLS
    first = datetime.fromtimestamp(outputs["next_start"], PARIS)
    assert lines[1].startswith(f"• {first:%a %d %b %Y %H:%M}–")
    assert " CET · " in lines[1]
    (completed,) = walked.slack.calls_to("functions.completeSuccess")
    assert completed.token == run.token, "the run's own token, as Bolt attaches it"
    assert session_calls(walked) == [200]


async def test_a_window_without_sessions_completes_with_no_next_start(walked: SlackBot) -> None:
    run = await run_step(walked, {"module": "company culture", "days": "14"})

    assert run.state == "completed", run.error
    assert run.outputs == {
        "summary": "No upcoming sessions of *Company Culture* in the next 14 days.",
        "count": 0,
    }


async def test_an_unknown_module_fails_with_the_sentence_sessions_gives(walked: SlackBot) -> None:
    run = await run_step(walked, {"module": "Quantum <Basket> Weaving", "days": 7})

    assert run.state == "failed"
    assert run.error is not None
    assert run.error.startswith("I couldn't find a module called “Quantum <Basket> Weaving”.")
    assert walked.slack.calls_to("functions.completeSuccess") == []
    assert walked.zoho.calls() == []


async def test_an_ambiguous_module_fails_naming_the_candidates(walked: SlackBot) -> None:
    run = await run_step(walked, {"module": "introduction"})

    assert run.state == "failed"
    assert run.error is not None
    assert "“introduction” matches several modules: Onboarding › Cohort A › Introduction" in run.error
    assert "Repeat the command with the full module name or its course/batch/module ids." in run.error


async def test_days_out_of_range_fail_before_any_lookup(walked: SlackBot) -> None:
    run = await run_step(walked, {"module": "tools & systems", "days": 61})

    assert run.state == "failed"
    assert run.error == "“61” is not a number of days: give a whole number from 1 to 60."
    assert walked.zoho.calls() == []


async def test_zoho_locked_completes_from_held_data_saying_as_of_when(walked: SlackBot) -> None:
    await run_step(walked, {"module": "tools & systems", "days": 14})  # holds the data at START
    walked.clock.advance(700)  # past the freshness window
    walked.zoho.answer_429_next(1)  # the refresh behind the next answer meets Zoho's lock
    await run_step(walked, {"module": "tools & systems", "days": 14})
    await walked.bot.core.sessions.drain()

    run = await run_step(walked, {"module": "tools & systems", "days": 14})

    assert run.state == "completed", run.error
    outputs = run.outputs or {}
    assert outputs["count"] == 3
    last = outputs["summary"].split("\n")[-1]
    assert last.startswith("_Zoho has paused API access")
    assert last.endswith(f"Sessions as of {START.astimezone(PARIS):%a %d %b %Y %H:%M} CET._")
    assert session_calls(walked) == [200, 429], "no call leaves while Zoho's lock lasts"


async def test_zoho_locked_with_nothing_held_fails_with_a_plain_sentence(walked: SlackBot) -> None:
    """Plain text: no date token (Slack shows a step's error as it is), the time in the
    organisation's zone."""
    walked.zoho.answer_429_next(1)

    run = await run_step(walked, {"module": "tools & systems"})

    assert run.state == "failed"
    assert run.error == (
        "Zoho has paused the bot's access for a few minutes after too many requests; "
        "try again after Mon 10 Mar 2025 11:05 CET."
    )


async def test_ids_of_a_module_zoho_does_not_have_fail_in_plain_text(walked: SlackBot) -> None:
    run = await run_step(walked, {"module": "100/200/300"})

    assert run.state == "failed"
    assert run.error == (
        "Zoho no longer knows this module (it may have been removed); pick another with /sessions."
    )
