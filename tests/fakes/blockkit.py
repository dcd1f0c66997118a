"""The Block Kit limits the fake Slack enforces on the blocks it is sent.

Why: Slack refuses messages and views whose blocks break its documented limits,
so the fake must too, or a bot that breaks them would pass its tests. This module
owns those checks and nothing else: that blocks are an array of objects with a
type; how many blocks a message (`MESSAGE_MAX_BLOCKS`) or a view
(`VIEW_MAX_BLOCKS`) may hold; the text lengths of section and header blocks,
section fields and button labels; how many fields a section and how many
elements a context or actions block may hold; and the lengths of block_id,
action_id and a button's value and url. Violations come back as Slack's
json-pointer messages ("must be less than 51 items [json-pointer:/blocks]");
turning them into Web API answers (invalid_blocks, invalid_arguments) is
FakeSlack's job.
"""

from __future__ import annotations

from typing import Any

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100

_TEXT_LIMITS = {"section": 3000, "header": 150}
_ELEMENT_LIMITS = {"context": 10, "actions": 25}


def block_errors(blocks: Any, max_blocks: int) -> list[str]:
    """The limits from the Slack reference, reported in Slack's json-pointer style."""
    if not isinstance(blocks, list):
        return ["must be an array [json-pointer:/blocks]"]
    errors = _too_many(blocks, max_blocks, "/blocks")
    for index, block in enumerate(blocks):
        errors += _one_block_errors(block, f"/blocks/{index}")
    return errors


def _one_block_errors(block: Any, pointer: str) -> list[str]:
    if not isinstance(block, dict) or "type" not in block:
        return [f"missing required field: type [json-pointer:{pointer}]"]
    kind = block["type"]
    errors = _too_long(block.get("block_id"), 255, f"{pointer}/block_id")
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
            errors += _element_errors(element, f"{pointer}/elements/{index}")
    if isinstance(block.get("accessory"), dict):
        errors += _element_errors(block["accessory"], f"{pointer}/accessory")
    return errors


def _element_errors(element: Any, pointer: str) -> list[str]:
    if not isinstance(element, dict):
        return []
    errors = _too_long(element.get("action_id"), 255, f"{pointer}/action_id")
    if element.get("type") == "button":
        errors += _too_long(_text_of(element.get("text")), 75, f"{pointer}/text/text")
        errors += _too_long(element.get("value"), 2000, f"{pointer}/value")
        errors += _too_long(element.get("url"), 3000, f"{pointer}/url")
    return errors


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


__all__ = ["MESSAGE_MAX_BLOCKS", "VIEW_MAX_BLOCKS", "block_errors"]
