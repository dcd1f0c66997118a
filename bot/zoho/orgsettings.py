"""Zoho People's organisation settings (`GET /api/v3/organization`), read into plain data.

The LMS writes session dates in the organisation's own date format and its times
in the organisation's zone, with neither named in the record. Connecting an
organisation from Slack therefore reads both from Zoho instead of asking an admin
to type them: this module turns that answer into an `OrgSettings`, refusing it
with a sentence when the bot could not read dates or times by it, so a bad
setting is caught once, at connect time, not as every date shown raw.

Zoho's date format is a Java pattern (`dd-MMM-yyyy`); the bot's parser,
`bot.sessions.model.parse_date`, takes a strptime format (`%d-%b-%Y`).
`strptime_format` translates one to the other and refuses, with
`UnknownDateFormat`, any pattern it cannot translate exactly, because a guessed
translation would read 05-03 as 3 May instead of 5 March without any error.

Pure: no I/O here except zoneinfo reading its zone data when a zone is checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "BadOrgSettings",
    "OrgSettings",
    "UnknownDateFormat",
    "parse_organization",
    "strptime_format",
]


@dataclass(frozen=True)
class OrgSettings:
    """What the bot needs from an organisation's settings to read its LMS records.

    `date_format` is already a strptime format (translated from Zoho's Java
    pattern), so it can be handed to `parse_date` as it is. `time_format` is
    kept as Zoho's Java pattern (`hh:mm a`), for display only: `parse_time`
    reads 12- and 24-hour text alike, so the bot never needs it to parse.
    """

    zone: str
    """IANA name, e.g. "Asia/Kolkata"; `zoneinfo` knows it."""
    date_format: str
    """strptime format, e.g. "%d.%m.%Y"; has a day, a month and a year."""
    company: str
    """Zoho's organisation id: two connections with the same one share Zoho's limits."""
    time_format: str
    """Zoho's Java time pattern as given, e.g. "hh:mm a"; "" when Zoho gave none."""


class UnknownDateFormat(ValueError):
    """A Java date pattern that `strptime_format` cannot translate exactly; `pattern` is the pattern."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"The date format {pattern!r} cannot be read by the bot: {reason}.")
        self.pattern = pattern
        self.reason = reason


class BadOrgSettings(ValueError):
    """Zoho's organisation settings cannot be used; `field` names the Zoho field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# Files zoneinfo may find on the host that are not IANA zones: they mean "whatever this server uses".
_HOST_ZONES = frozenset({"localtime", "posixrules"})


_DAY, _MONTH, _YEAR, _WEEKDAY = "day", "month", "year", "weekday"
# A quoted literal ('' inside it is one quote), a run of one letter, other text, or a quote left open.
_TOKEN = re.compile(r"'(?:[^']|'')*'|([A-Za-z])\1*|[^A-Za-z']+|'")


def strptime_format(java: str) -> str:
    """The strptime format that reads exactly what Zoho writes with the Java date pattern `java`.

    `d` and `dd` both become `%d` (strptime takes one or two digits), likewise
    `M`/`MM` and `%m`; month and weekday names become `%b`/`%B`/`%a`/`%A`,
    which read English names as long as the process keeps the C locale for
    LC_TIME (nothing in the bot calls setlocale). Quoted text is
    kept literally and `%` is escaped. Raises `UnknownDateFormat` for a letter
    this does not know (time letters included: this reads dates only), an
    unclosed quote, a field given twice, or a pattern lacking a day, a month or
    a year, since any of those would misread or fail to read every date.
    """
    if not java.strip():
        raise UnknownDateFormat(java, "it is empty")
    parts: list[str] = []
    seen: set[str] = set()
    for match in _TOKEN.finditer(java):  # the alternatives cover every character, so tokens are contiguous
        token, letter = match.group(0), match.group(1)
        if letter is not None:
            field, directive = _directive(java, letter, len(token))
            if field in seen:
                raise UnknownDateFormat(java, f"it gives the {field} twice")
            seen.add(field)
            parts.append(directive)
        elif token == "'":
            raise UnknownDateFormat(java, "a quote (') is never closed")
        elif token == "''":
            parts.append("'")
        elif token.startswith("'"):
            parts.append(_literal(token[1:-1].replace("''", "'")))
        else:
            parts.append(_literal(token))
    missing = [field for field in (_DAY, _MONTH, _YEAR) if field not in seen]
    if missing:
        raise UnknownDateFormat(java, f"it has no {' and no '.join(missing)}")
    return "".join(parts)


def parse_organization(body: dict[str, Any]) -> OrgSettings:
    """The settings in Zoho's answer to `GET /api/v3/organization`, checked so the bot can use them.

    Raises `BadOrgSettings` with a sentence an admin can act on when TimeZone
    is not a zone `zoneinfo` knows, DateFormat cannot be translated, or Company
    is missing: connecting would otherwise succeed and every date be wrong.
    """
    if not isinstance(body, dict):
        raise BadOrgSettings(
            "", f"Zoho's organisation settings are not a JSON object but {type(body).__name__}."
        )
    zone = _zone(body.get("TimeZone"))
    date_format = _date_format(body.get("DateFormat"))
    company = _company(body.get("Company"))
    time_format = body.get("TimeFormat")
    if time_format is None:
        time_format = ""
    if not isinstance(time_format, str):
        raise BadOrgSettings(
            "TimeFormat",
            f"Zoho's organisation TimeFormat should be text such as 'hh:mm a', not {time_format!r}.",
        )
    return OrgSettings(zone=zone, date_format=date_format, company=company, time_format=time_format.strip())


def _directive(java: str, letter: str, count: int) -> tuple[str, str]:
    """The field a run of one pattern letter gives and its strptime directive.

    Java's rules (SimpleDateFormat and DateTimeFormatter agree on these counts):
    d/dd a day number; M/MM a month number, MMM a short name, MMMM a full name;
    yy two digits, y/yyy/yyyy a full year; E/EE/EEE a short weekday, EEEE a full
    one. Longer runs are refused: they pad to widths strptime will not read
    (ddd is "005", yyyyy "02025") or mean a one-letter name in DateTimeFormatter
    (MMMMM, EEEEE), which no parser can read back.
    """
    if letter == "d" and count <= 2:
        return _DAY, "%d"
    if letter == "M" and count <= 4:
        return _MONTH, {1: "%m", 2: "%m", 3: "%b", 4: "%B"}[count]
    if letter == "y" and count <= 4:
        return _YEAR, "%y" if count == 2 else "%Y"
    if letter == "E" and count <= 4:
        return _WEEKDAY, "%a" if count <= 3 else "%A"
    if letter in "dMyE":
        raise UnknownDateFormat(
            java, f"{letter * count!r} is not a form of the {letter!r} field the bot can read"
        )
    raise UnknownDateFormat(java, f"the bot does not know the pattern letter {letter!r}")


def _literal(text: str) -> str:
    return text.replace("%", "%%")


def _zone(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadOrgSettings(
            "TimeZone",
            f"Zoho's organisation settings have no TimeZone (got {value!r}); "
            "set one under Locale and Display Settings in Zoho People.",
        )
    name = value.strip()
    try:
        if name in _HOST_ZONES:
            raise ZoneInfoNotFoundError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "America"
        raise BadOrgSettings(
            "TimeZone",
            f"Zoho's organisation TimeZone {name!r} is not an IANA time zone the bot knows, "
            "such as Asia/Kolkata.",
        ) from None
    return name


def _date_format(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadOrgSettings(
            "DateFormat",
            f"Zoho's organisation settings have no DateFormat (got {value!r}); "
            "set one under Locale and Display Settings in Zoho People.",
        )
    try:
        return strptime_format(value.strip())
    except UnknownDateFormat as exc:
        raise BadOrgSettings(
            "DateFormat",
            f"Zoho's organisation DateFormat {exc.pattern!r} cannot be read by the bot: {exc.reason}; "
            "choose another date format under Locale and Display Settings in Zoho People.",
        ) from exc


def _company(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise BadOrgSettings(
            "Company",
            f"Zoho's organisation settings have no Company id (got {value!r}), "
            "so the bot cannot tell this organisation from another.",
        )
    return value.strip()
