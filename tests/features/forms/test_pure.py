"""The forms' pure parts: the FormRef record, reading a submitted state, and the views' limits."""

from __future__ import annotations

import json
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.features import wire
from bot.features.forms.ids import Field, FormAction, FormCallback, FormRef, Kind, decode_form, encode_form
from bot.features.forms.read import DigestForm, ReminderForm, read_digest, read_reminder
from bot.features.forms.render import (
    LEAD_CHOICES,
    MAX_OPTIONS,
    browse_modal,
    digest_modal,
    module_option,
    module_options,
    reminder_modal,
)
from bot.sessions.modules import ModuleId, ModuleRef
from tests.fakes.blockkit import view_errors

MODULE = ModuleRef("219225000000100001", "219225000000200001", "219225000000300002", "Tools & Systems")
PARIS = ZoneInfo("Europe/Paris")


def test_form_refs_survive_the_wire() -> None:
    for ref in (
        FormRef(Kind.REMINDER),
        FormRef(Kind.DIGEST, 42, MODULE.id, "C1"),
        FormRef(Kind.REMINDER, 2**31 - 1, None, "D0123"),
    ):
        assert decode_form(encode_form(ref)) == ref
    assert (
        len(encode_form(FormRef(Kind.DIGEST, 2**31 - 1, ModuleId("a" * 64, "b" * 64, "c" * 64), "C" * 32)))
        < 2000
    )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "12",
        "not json",
        json.dumps({"v": 2, "k": "r"}),
        json.dumps({"v": 1, "k": "x"}),
        json.dumps({"v": 1, "k": "r", "s": -1}),
        json.dumps({"v": 1, "k": "r", "s": True}),
        json.dumps({"v": 1, "k": "r", "s": 2**31}),
        json.dumps({"v": 1, "k": "d", "m": "not/a key/at all!"}),
        json.dumps({"v": 1, "k": "d", "c": "<!channel>"}),
        json.dumps({"v": 1, "k": "d", "c": ["C1"]}),
        json.dumps({"v": 1, "k": "d", "s": 1e400}),
        "[" * 100_000,
        json.dumps({"v": 1, "k": "r", "pad": "x" * wire.MAX_CHARS}),
    ],
)
def test_anything_the_bot_did_not_write_is_refused_with_value_error(value: str) -> None:
    with pytest.raises(ValueError, match=r"value|kind|number|module|conversation"):
        decode_form(value)


def _picked(key: str) -> dict[str, object]:
    return {"text": {"type": "plain_text", "text": "x"}, "value": key}


def reminder_state(module: str | None = MODULE.key, lead: str | None = "60") -> dict[str, object]:
    return {
        Field.MODULE.value: {
            FormAction.MODULE.value: {
                "type": "external_select",
                "selected_option": _picked(module) if module is not None else None,
            }
        },
        Field.LEAD.value: {
            FormAction.LEAD.value: {
                "type": "static_select",
                "selected_option": _picked(lead) if lead is not None else None,
            }
        },
    }


def digest_state(
    modules: list[str] | None = None,
    channel: object = "C1",
    at: object = "08:30",
    days: list[str] | None = None,
) -> dict[str, object]:
    return {
        Field.MODULE.value: {
            FormAction.MODULES.value: {
                "type": "multi_external_select",
                "selected_options": [_picked(k) for k in (modules if modules is not None else [MODULE.key])],
            }
        },
        Field.CHANNEL.value: {
            FormAction.CHANNEL.value: {"type": "conversations_select", "selected_conversation": channel}
        },
        Field.TIME.value: {FormAction.TIME.value: {"type": "timepicker", "selected_time": at}},
        Field.DAYS.value: {
            FormAction.DAYS.value: {
                "type": "checkboxes",
                "selected_options": [_picked(d) for d in (days if days is not None else ["mon", "wed"])],
            }
        },
    }


def test_a_filled_reminder_form_reads_as_its_module_and_lead() -> None:
    assert read_reminder(reminder_state(), with_module=True) == ReminderForm(MODULE.id, timedelta(hours=1))
    assert read_reminder(reminder_state(module=None), with_module=False) == ReminderForm(
        None, timedelta(hours=1)
    )


@pytest.mark.parametrize(
    ("state", "fields"),
    [
        (reminder_state(module=None), {Field.MODULE}),
        (reminder_state(module="junk"), {Field.MODULE}),
        (reminder_state(lead=None), {Field.LEAD}),
        (reminder_state(lead="0"), {Field.LEAD}),
        (reminder_state(lead="-5"), {Field.LEAD}),
        (reminder_state(lead="99999"), {Field.LEAD}),
        (reminder_state(lead="٣"), {Field.LEAD}),
        ({}, {Field.MODULE, Field.LEAD}),
        ("not a dict", {Field.MODULE, Field.LEAD}),
        (
            {Field.MODULE.value: [], Field.LEAD.value: {FormAction.LEAD.value: "60"}},
            {Field.MODULE, Field.LEAD},
        ),
    ],
)
def test_unusable_reminder_fields_are_errors_at_their_block(state: object, fields: set[Field]) -> None:
    errors = read_reminder(state, with_module=True)
    assert isinstance(errors, dict)
    assert set(errors) == fields
    assert all(errors.values())


def test_a_filled_digest_form_reads_as_modules_channel_time_and_days() -> None:
    other = "1/2/3"
    assert read_digest(digest_state(modules=[MODULE.key, other, MODULE.key])) == DigestForm(
        (MODULE.id, ModuleId("1", "2", "3")), "C1", time(8, 30), frozenset({0, 2})
    )


@pytest.mark.parametrize(
    ("state", "field"),
    [
        (digest_state(days=[]), Field.DAYS),
        (digest_state(days=["funday"]), Field.DAYS),
        (digest_state(modules=[]), Field.MODULE),
        (digest_state(modules=[MODULE.key, "junk"]), Field.MODULE),
        (digest_state(channel=None), Field.CHANNEL),
        (digest_state(channel="C1<@U1>"), Field.CHANNEL),
        (digest_state(channel=12), Field.CHANNEL),
        (digest_state(at="25:00"), Field.TIME),
        (digest_state(at="8:30"), Field.TIME),
        (digest_state(at=None), Field.TIME),
    ],
)
def test_unusable_digest_fields_are_errors_at_their_block(state: object, field: Field) -> None:
    errors = read_digest(state)
    assert isinstance(errors, dict)
    assert list(errors) == [field]


def test_views_keep_slacks_limits() -> None:
    views = [
        reminder_modal(FormRef(Kind.REMINDER), None),
        reminder_modal(FormRef(Kind.REMINDER, 3, MODULE.id), MODULE, timedelta(minutes=45)),
        reminder_modal(FormRef(Kind.REMINDER, 3, MODULE.id), MODULE, one_session=True),
        digest_modal(FormRef(Kind.DIGEST, channel="C1"), [MODULE], PARIS),
        digest_modal(FormRef(Kind.DIGEST, 9, MODULE.id, "C1"), [MODULE], PARIS, time(7, 5), frozenset({6})),
        digest_modal(FormRef(Kind.DIGEST), [], PARIS, weekdays=frozenset()),
        browse_modal(),
        browse_modal(MODULE, note="Looking up…"),
    ]
    for view in views:
        assert view_errors(view) == [], view


def test_an_edited_lead_outside_the_choices_is_offered_and_chosen() -> None:
    view = reminder_modal(FormRef(Kind.REMINDER, 3, MODULE.id), MODULE, timedelta(minutes=45))
    (lead,) = [b for b in view["blocks"] if b.get("block_id") == Field.LEAD]
    values = [o["value"] for o in lead["element"]["options"]]
    assert values == ["5", "10", "15", "30", "45", "60", "120", "1440"]
    assert lead["element"]["initial_option"]["value"] == "45"
    assert len(LEAD_CHOICES) == 7


def test_the_digest_form_ticks_weekdays_and_reads_time_in_the_persons_zone() -> None:
    view = digest_modal(FormRef(Kind.DIGEST, channel="C1"), [MODULE], PARIS)
    assert view["callback_id"] == FormCallback.DIGEST
    blocks = {b["block_id"]: b for b in view["blocks"]}
    days = blocks[Field.DAYS]["element"]
    assert [o["value"] for o in days["initial_options"]] == ["mon", "tue", "wed", "thu", "fri"]
    assert len(days["options"]) == 7
    assert blocks[Field.TIME]["element"]["initial_time"] == "08:00"
    assert "Europe/Paris" in blocks[Field.TIME]["hint"]["text"]
    assert blocks[Field.CHANNEL]["element"]["initial_conversation"] == "C1"
    assert blocks[Field.MODULE]["element"]["initial_options"] == [module_option(MODULE)]
    assert decode_form(view["private_metadata"]) == FormRef(Kind.DIGEST, channel="C1")


def test_module_options_stay_within_slacks_limits() -> None:
    long_name = ModuleRef("1", "2", "3", "N" * 500, "C" * 300, "B" * 300)
    too_long_key = ModuleRef("a" * 64, "b" * 64, "c" * 64, "Long ids")
    assert module_option(too_long_key) is None, "its value could not be more than 150 characters"
    (option,) = module_options([long_name, too_long_key])
    assert len(option["text"]["text"]) <= 75
    many = [ModuleRef("1", "2", str(n), f"M{n}") for n in range(250)]
    assert len(module_options(many)) == MAX_OPTIONS == 100
