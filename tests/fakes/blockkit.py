"""The Block Kit limits the fake Slack enforces on the blocks and views it is sent.

Why: Slack refuses messages and views whose blocks break its documented limits,
so the fake must too, or a bot that breaks them would pass its tests. This module
owns those checks and nothing else:

- blocks (`block_errors`, for messages and views): that blocks are an array of
  objects with a type; how many blocks a message (`MESSAGE_MAX_BLOCKS`) or a view
  (`VIEW_MAX_BLOCKS`) may hold; unique block_ids; the text lengths of section and
  header blocks, section fields and button labels; how many fields a section and
  how many elements a context or actions block may hold; input blocks (label,
  hint, element, optional, dispatch_action); and interactive elements: the
  lengths of action_id (unique within a block), a button's value and url,
  placeholders, the options of selects, checkboxes, radio buttons and overflow
  menus (how many, their text and value, initial options among them), a
  timepicker's initial_time, a conversations_select's fields;
- views (`view_errors`): type, a modal's title, submit and close, the submit an
  input block needs, callback_id, private_metadata and external_id, the blocks;
- the answer to a block_suggestion request (`options_errors`).

Violations come back as Slack's json-pointer messages ("must be less than 51
items [json-pointer:/blocks]"); a view's pointers start at "/view", as Slack's
do. The limit messages and "missing required field" are worded as Slack words
them; for rarer rules (duplicates, booleans, initial options) the wording is the
fake's, so tests should assert on the pointer rather than the sentence there.
Turning messages into Web API answers (invalid_blocks, invalid_arguments) is
FakeSlack's job.
"""

from __future__ import annotations

import re
from typing import Any

JSON = dict[str, Any]

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
VIEW_TYPES = ("modal", "home")
OPTIONS_MAX = 100
"""Options in a select menu, option groups in one, options in a group, options in an answer."""

_TEXT_LIMITS = {"section": 3000, "header": 150}
_ELEMENT_LIMITS = {"context": 10, "actions": 25}
_MODAL_TEXT_MAX = 24
_ID_MAX = 255
_PRIVATE_METADATA_MAX = 3000
_INPUT_TEXT_MAX = 2000
_PLACEHOLDER_MAX = 150
_OPTION_TEXT_MAX = 75
_OPTION_VALUE_MAX = 150

_PLAIN = ("plain_text",)
_ANY_TEXT = ("plain_text", "mrkdwn")
_STATIC_SELECTS = frozenset({"static_select", "multi_static_select"})
_EXTERNAL_SELECTS = frozenset({"external_select", "multi_external_select"})
_CHOICE_LISTS = {"checkboxes": (1, 10), "radio_buttons": (1, 10), "overflow": (2, 5)}
"""Elements whose `options` are required, with Slack's (fewest, most) options."""
_CONVERSATION_PICKERS = frozenset({"conversations_select", "channels_select"})
_TIME = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")


# --------------------------------------------------------------------------- public checks


def block_errors(blocks: Any, max_blocks: int) -> list[str]:
    """The limits from the Slack reference, reported in Slack's json-pointer style."""
    return _blocks_errors(blocks, max_blocks, "/blocks", in_modal=False)


def view_errors(view: Any, *, types: tuple[str, ...] = VIEW_TYPES) -> list[str]:
    """What views.open, views.update and views.publish refuse; `types` narrows what a method takes
    (views.open only modals, views.publish only Home tabs)."""
    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    kind = view.get("type")
    if kind is None:
        return ["missing required field: type [json-pointer:/view]"]
    if kind not in types:
        return [f"must be one of: {', '.join(types)} [json-pointer:/view/type]"]
    errors: list[str] = []
    if kind == "modal":
        errors += _text_errors(view, "title", "/view", _MODAL_TEXT_MAX, required=True)
        for name in ("submit", "close"):
            errors += _text_errors(view, name, "/view", _MODAL_TEXT_MAX)
    for name, limit in (("callback_id", _ID_MAX), ("private_metadata", _PRIVATE_METADATA_MAX)):
        errors += _too_long(view.get(name), limit, f"/view/{name}")
    errors += _too_long(view.get("external_id"), _ID_MAX, "/view/external_id")
    if "blocks" not in view:
        return [*errors, "missing required field: blocks [json-pointer:/view]"]
    blocks = view["blocks"]
    errors += _blocks_errors(blocks, VIEW_MAX_BLOCKS, "/view/blocks", in_modal=kind == "modal")
    has_input = isinstance(blocks, list) and any(_type_of(b) == "input" for b in blocks)
    if kind == "modal" and has_input and view.get("submit") is None:
        errors.append("missing required field: submit [json-pointer:/view]")
    return errors


def options_errors(answer: Any) -> list[str]:
    """What Slack refuses in the answer to a block_suggestion (external select) request: it then
    shows the person no options at all, so the bot's test must catch it."""
    if not isinstance(answer, dict):
        return ["must be an object [json-pointer:/]"]
    has_options, has_groups = "options" in answer, "option_groups" in answer
    if has_options == has_groups:
        return ["must provide exactly one of options, option_groups [json-pointer:/]"]
    if has_options:
        return _options_errors(answer["options"], OPTIONS_MAX, "/options", _PLAIN)
    return _option_groups_errors(answer["option_groups"], "/option_groups")


# --------------------------------------------------------------------------- blocks


def _blocks_errors(blocks: Any, max_blocks: int, pointer: str, *, in_modal: bool) -> list[str]:
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    errors = _too_many(blocks, max_blocks, pointer)
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        here = f"{pointer}/{index}"
        errors += _one_block_errors(block, here, in_modal=in_modal)
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if isinstance(block_id, str):
            if block_id in seen:
                errors.append(f"duplicate block_id [json-pointer:{here}/block_id]")
            seen.add(block_id)
    return errors


def _one_block_errors(block: Any, pointer: str, *, in_modal: bool) -> list[str]:
    if not isinstance(block, dict) or "type" not in block:
        return [f"missing required field: type [json-pointer:{pointer}]"]
    kind = block["type"]
    errors = _too_long(block.get("block_id"), _ID_MAX, f"{pointer}/block_id")
    if kind in _TEXT_LIMITS:
        errors += _too_long(_text_of(block.get("text")), _TEXT_LIMITS[kind], f"{pointer}/text/text")
    if kind == "section" and isinstance(block.get("fields"), list):
        errors += _too_many(block["fields"], 10, f"{pointer}/fields")
        for index, item in enumerate(block["fields"]):
            errors += _too_long(_text_of(item), 2000, f"{pointer}/fields/{index}/text")
    elements = block.get("elements") if kind in _ELEMENT_LIMITS else None
    if isinstance(elements, list):
        errors += _too_many(elements, _ELEMENT_LIMITS[kind], f"{pointer}/elements")
        for index, element in enumerate(elements):
            errors += _element_errors(element, f"{pointer}/elements/{index}", in_modal_input=False)
        if kind == "actions":
            errors += _duplicate_action_ids(elements, f"{pointer}/elements")
    if isinstance(block.get("accessory"), dict):
        errors += _element_errors(block["accessory"], f"{pointer}/accessory", in_modal_input=False)
    if kind == "input":
        errors += _input_block_errors(block, pointer, in_modal=in_modal)
    return errors


def _input_block_errors(block: JSON, pointer: str, *, in_modal: bool) -> list[str]:
    errors = _text_errors(block, "label", pointer, _INPUT_TEXT_MAX, required=True)
    errors += _text_errors(block, "hint", pointer, _INPUT_TEXT_MAX)
    for flag in ("optional", "dispatch_action"):
        errors += _not_bool(block, flag, pointer)
    if "element" not in block:
        return [*errors, f"missing required field: element [json-pointer:{pointer}]"]
    if not isinstance(block["element"], dict):
        return [*errors, f"must be an object [json-pointer:{pointer}/element]"]
    return errors + _element_errors(block["element"], f"{pointer}/element", in_modal_input=in_modal)


def _duplicate_action_ids(elements: list[Any], pointer: str) -> list[str]:
    errors, seen = [], set()
    for index, element in enumerate(elements):
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if isinstance(action_id, str):
            if action_id in seen:
                errors.append(f"duplicate action_id [json-pointer:{pointer}/{index}/action_id]")
            seen.add(action_id)
    return errors


# --------------------------------------------------------------------------- elements


def _element_errors(element: Any, pointer: str, *, in_modal_input: bool) -> list[str]:
    if not isinstance(element, dict):
        return []
    kind = element.get("type")
    errors = _too_long(element.get("action_id"), _ID_MAX, f"{pointer}/action_id")
    if kind == "button":
        errors += _too_long(_text_of(element.get("text")), 75, f"{pointer}/text/text")
        errors += _too_long(element.get("value"), 2000, f"{pointer}/value")
        errors += _too_long(element.get("url"), 3000, f"{pointer}/url")
    if "placeholder" in element:
        errors += _text_errors(element, "placeholder", pointer, _PLACEHOLDER_MAX)
    if kind in _STATIC_SELECTS:
        errors += _static_select_errors(element, pointer)
    elif kind in _CHOICE_LISTS:
        errors += _choice_list_errors(element, pointer)
    elif kind in _EXTERNAL_SELECTS:
        errors += _external_select_errors(element, pointer)
    elif kind == "timepicker":
        errors += _timepicker_errors(element, pointer)
    if kind in _CONVERSATION_PICKERS:
        errors += _conversation_picker_errors(element, pointer, in_modal_input=in_modal_input)
    return errors


def _static_select_errors(element: JSON, pointer: str) -> list[str]:
    if "option_groups" in element:
        errors = _option_groups_errors(element["option_groups"], f"{pointer}/option_groups")
        groups = element["option_groups"] if isinstance(element["option_groups"], list) else []
        offered = [o for g in groups if isinstance(g, dict) for o in _as_list(g.get("options"))]
    elif "options" in element:
        errors = _options_errors(element["options"], OPTIONS_MAX, f"{pointer}/options", _PLAIN)
        offered = _as_list(element["options"])
    else:
        return [f"missing required field: options [json-pointer:{pointer}]"]
    return errors + _initial_options_errors(element, pointer, offered)


def _choice_list_errors(element: JSON, pointer: str) -> list[str]:
    kind = element["type"]
    if "options" not in element:
        return [f"missing required field: options [json-pointer:{pointer}]"]
    fewest, most = _CHOICE_LISTS[kind]
    kinds = _PLAIN if kind == "overflow" else _ANY_TEXT  # checkboxes and radios may use mrkdwn
    errors = _options_errors(element["options"], most, f"{pointer}/options", kinds, fewest=fewest)
    if kind != "overflow":
        errors += _initial_options_errors(element, pointer, _as_list(element["options"]))
    return errors


def _external_select_errors(element: JSON, pointer: str) -> list[str]:
    """An external select's initial options come from the app, not from a list: only their shape."""
    errors: list[str] = []
    if "initial_option" in element:
        errors += _option_errors(element["initial_option"], f"{pointer}/initial_option", _PLAIN)
    if "initial_options" in element:
        errors += _options_errors(
            element["initial_options"], OPTIONS_MAX, f"{pointer}/initial_options", _PLAIN
        )
    length = element.get("min_query_length")
    if "min_query_length" in element and (not _is_int(length) or length < 0):
        errors.append(f"must be a non-negative integer [json-pointer:{pointer}/min_query_length]")
    return errors


def _timepicker_errors(element: JSON, pointer: str) -> list[str]:
    initial = element.get("initial_time")
    if "initial_time" in element and not (isinstance(initial, str) and _TIME.fullmatch(initial)):
        return [f"must match the format HH:mm [json-pointer:{pointer}/initial_time]"]
    return []


def _conversation_picker_errors(element: JSON, pointer: str, *, in_modal_input: bool) -> list[str]:
    errors = _not_bool(element, "default_to_current_conversation", pointer)
    errors += _not_bool(element, "response_url_enabled", pointer)
    for name in ("initial_conversation", "initial_channel"):
        if name in element and not isinstance(element[name], str):
            errors.append(f"must be a string [json-pointer:{pointer}/{name}]")
    if "filter" in element and not isinstance(element["filter"], dict):
        errors.append(f"must be an object [json-pointer:{pointer}/filter]")
    if element.get("response_url_enabled") is True and not in_modal_input:
        errors.append(
            f"response_url_enabled is only allowed in input blocks of modals "
            f"[json-pointer:{pointer}/response_url_enabled]"
        )
    return errors


# --------------------------------------------------------------------------- options


def _options_errors(
    options: Any, most: int, pointer: str, kinds: tuple[str, ...], *, fewest: int = 0
) -> list[str]:
    if not isinstance(options, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    errors = _too_many(options, most, pointer)
    if len(options) < fewest:
        errors.append(f"must be more than {fewest - 1} items [json-pointer:{pointer}]")
    for index, item in enumerate(options):
        errors += _option_errors(item, f"{pointer}/{index}", kinds)
    return errors


def _option_groups_errors(groups: Any, pointer: str) -> list[str]:
    if not isinstance(groups, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    errors = _too_many(groups, OPTIONS_MAX, pointer)
    for index, group in enumerate(groups):
        here = f"{pointer}/{index}"
        if not isinstance(group, dict):
            errors.append(f"must be an object [json-pointer:{here}]")
            continue
        errors += _text_errors(group, "label", here, _OPTION_TEXT_MAX, required=True)
        if "options" not in group:
            errors.append(f"missing required field: options [json-pointer:{here}]")
        else:
            errors += _options_errors(group["options"], OPTIONS_MAX, f"{here}/options", _PLAIN)
    return errors


def _option_errors(option: Any, pointer: str, kinds: tuple[str, ...]) -> list[str]:
    if not isinstance(option, dict):
        return [f"must be an object [json-pointer:{pointer}]"]
    errors = _text_errors(option, "text", pointer, _OPTION_TEXT_MAX, required=True, kinds=kinds)
    if "description" in option:
        errors += _text_errors(option, "description", pointer, _OPTION_TEXT_MAX, kinds=kinds)
    if "value" not in option:
        errors.append(f"missing required field: value [json-pointer:{pointer}]")
    elif not isinstance(option["value"], str):
        errors.append(f"must be a string [json-pointer:{pointer}/value]")
    else:
        errors += _too_long(option["value"], _OPTION_VALUE_MAX, f"{pointer}/value")
    return errors


def _initial_options_errors(element: JSON, pointer: str, offered: list[Any]) -> list[str]:
    """Slack refuses an initial option that is not one of the element's own (same text and value)."""
    keys = {_option_key(o) for o in offered}
    errors: list[str] = []
    if "initial_option" in element and _option_key(element["initial_option"]) not in keys:
        errors.append(f"must match one of the options [json-pointer:{pointer}/initial_option]")
    initial = element.get("initial_options")
    if "initial_options" in element and not isinstance(initial, list):
        errors.append(f"must be an array [json-pointer:{pointer}/initial_options]")
    for index, item in enumerate(initial if isinstance(initial, list) else []):
        if _option_key(item) not in keys:
            errors.append(f"must match one of the options [json-pointer:{pointer}/initial_options/{index}]")
    return errors


def _option_key(option: Any) -> tuple[Any, Any, Any] | None:
    """What makes two options the same to Slack: text type, text and value (not `emoji`)."""
    if not isinstance(option, dict):
        return None
    text = option.get("text")
    if not isinstance(text, dict):
        return None
    return (text.get("type"), text.get("text"), option.get("value"))


# --------------------------------------------------------------------------- primitives


def _text_errors(
    parent: JSON,
    name: str,
    pointer: str,
    limit: int,
    *,
    required: bool = False,
    kinds: tuple[str, ...] = _PLAIN,
) -> list[str]:
    """A text object field `name` of `parent`: its type among `kinds`, a non-empty text, `limit`."""
    here = f"{pointer}/{name}"
    if parent.get(name) is None:
        return [f"missing required field: {name} [json-pointer:{pointer}]"] if required else []
    text_object = parent[name]
    if not isinstance(text_object, dict):
        return [f"must be an object [json-pointer:{here}]"]
    if text_object.get("type") not in kinds:
        return [f"must be one of: {', '.join(kinds)} [json-pointer:{here}/type]"]
    text = text_object.get("text")
    if not isinstance(text, str):
        return [f"missing required field: text [json-pointer:{here}]"]
    if not text:
        return [f"must be more than 0 characters [json-pointer:{here}/text]"]
    return _too_long(text, limit, f"{here}/text")


def _not_bool(parent: JSON, name: str, pointer: str) -> list[str]:
    if name in parent and not isinstance(parent[name], bool):
        return [f"must be a boolean [json-pointer:{pointer}/{name}]"]
    return []


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _type_of(block: Any) -> Any:
    return block.get("type") if isinstance(block, dict) else None


def _text_of(text_object: Any) -> Any:
    return text_object.get("text") if isinstance(text_object, dict) else None


def _too_long(value: Any, limit: int, pointer: str) -> list[str]:
    if isinstance(value, str) and len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}]"]
    return []


def _too_many(items: list[Any], limit: int, pointer: str) -> list[str]:
    if len(items) > limit:
        return [f"must be less than {limit + 1} items [json-pointer:{pointer}]"]
    return []


__all__ = [
    "MESSAGE_MAX_BLOCKS",
    "OPTIONS_MAX",
    "VIEW_MAX_BLOCKS",
    "VIEW_TYPES",
    "block_errors",
    "options_errors",
    "view_errors",
]
