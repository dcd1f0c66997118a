"""The small HTML pages a person's browser is shown by the connect flow (pure, self-contained).

No scripts, no outside resources; every word that comes from outside is escaped.
"""

from __future__ import annotations

import html

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1d1c1d}}
h1{{font-size:1.4rem}}p{{line-height:1.5}}</style></head>
<body><h1>{title}</h1>{paragraphs}</body></html>
"""


def page(title: str, *paragraphs: str) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return _PAGE.format(title=html.escape(title), paragraphs=body)


CENTRE_LABELS = {
    "com": "US",
    "eu": "EU",
    "in": "IN",
    "com.au": "AU",
    "jp": "JP",
    "ca": "CA",
    "sa": "SA",
    "com.cn": "CN",
}


def centre_label(data_centre: str) -> str:
    """How a person names a Zoho data centre: US, EU, IN…"""
    return CENTRE_LABELS.get(data_centre, data_centre.upper())


def connected(data_centre: str, zone: str | None) -> str:
    where = f"Connected to Zoho People ({centre_label(data_centre)})"
    said = f"{where}, time zone {zone}." if zone else f"{where}."
    return page("Zoho People is connected", said, "You can close this tab and go back to Slack.")


NOT_ADMIN = (
    "Zoho only tells its administrators the organisation's time zone and date format, and whoever "
    "connected isn't one: set them in the bot's Home tab, or ask a Zoho People admin to connect instead."
)
NOT_ANSWERED = (
    "Zoho didn't answer when asked for the organisation's time zone and date format: the bot asks "
    "again in a few minutes (or set them in the bot's Home tab)."
)


def connected_without_settings(data_centre: str, problem: str) -> str:
    return page(
        "Zoho People is connected",
        f"Connected to Zoho People ({centre_label(data_centre)}).",
        problem,
        "Until the time zone and date format are known, the bot shows no sessions and sends nothing, "
        "so that no time is wrong. You can close this tab.",
    )


def refused(why: str, what_to_do: str) -> str:
    return page("Zoho People was not connected", why, what_to_do)


AGAIN = "Open the bot's Home tab in Slack and click Connect Zoho People there."
