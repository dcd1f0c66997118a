"""The buttons that open a form, wherever they are shown (a listing, App Home): pure Block Kit."""

from __future__ import annotations

from typing import Any

from bot.features.forms.ids import FormAction, FormRef, Kind, encode_form
from bot.sessions.modules import ModuleRef
from bot.slack.text import plain

Block = dict[str, Any]


def form_button(label: str, action: FormAction, ref: FormRef, suffix: str = "", style: str = "") -> Block:
    """`suffix` keeps action ids unique when a view has several buttons of one kind."""
    button: Block = {
        "type": "button",
        "action_id": f"{action}:{suffix}" if suffix else action.value,
        "text": plain(label, 75),
        "value": encode_form(ref),
    }
    if style:
        button["style"] = style
    return button


def follow_buttons(module: ModuleRef) -> list[Block]:
    """Under a module's listing: a reminder of its every session, a digest of it in this channel."""
    return [
        form_button(
            "Remind me of every session…", FormAction.OPEN_REMINDER, FormRef(Kind.REMINDER, module=module.id)
        ),
        form_button(
            "Daily digest in this channel…", FormAction.OPEN_DIGEST, FormRef(Kind.DIGEST, module=module.id)
        ),
    ]


def change_buttons(kind: Kind, ident: int, name: str = "") -> Block:
    """Edit and Stop for one subscription, as an actions block; `name` labels the buttons when
    several subscriptions' buttons sit together without their own lines."""
    ref = FormRef(kind, ident)
    edit, stop = (
        (FormAction.OPEN_REMINDER, FormAction.STOP_REMINDER)
        if kind is Kind.REMINDER
        else (FormAction.OPEN_DIGEST, FormAction.STOP_DIGEST)
    )
    suffix = f" {name}" if name else ""
    return {
        "type": "actions",
        "block_id": f"change:{kind.value}:{ident}",
        "elements": [
            form_button(f"Edit{suffix}", edit, ref, suffix=str(ident)),
            form_button(f"Stop{suffix}", stop, ref, suffix=str(ident), style="danger"),
        ],
    }
