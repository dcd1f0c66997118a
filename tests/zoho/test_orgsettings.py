"""Zoho People's organisation settings: Java date patterns to strptime, and the settings body checked."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.sessions.model import parse_date, parse_session
from bot.zoho.orgsettings import (
    BadOrgSettings,
    OrgSettings,
    UnknownDateFormat,
    parse_organization,
    strptime_format,
)

# Wednesday 5 March 2025: day and month both below 13 and different, so a swapped order reads
# another date instead of failing, and single digits show whether `d` and `M` are read unpadded.
DAY = date(2025, 3, 5)

# Each Java pattern and the text Java writes for DAY with it, in English, written out by hand
# rather than generated, so the translation is checked against what Zoho sends, not against itself.
#
# Zoho People's help does not publish the list its Locale and Display Settings offer, so this is the
# union of: the list in the feature's brief; the Java date patterns Zoho documents for its sibling
# Zoho CRM ("Allowed Date Field Formats", zoho.com/sites/zweb/images/crm/allowed-formats-for-fields-
# in-create-bulk-write-job-api.pdf); and the Deluge date-format table of Zoho apps; plus a few
# unpadded and full-name variants.
PATTERNS: dict[str, str] = {
    # The brief's list.
    "dd-MM-yyyy": "05-03-2025",
    "MM-dd-yyyy": "03-05-2025",
    "yyyy-MM-dd": "2025-03-05",
    "dd/MM/yyyy": "05/03/2025",
    "MM/dd/yyyy": "03/05/2025",
    "yyyy/MM/dd": "2025/03/05",
    "dd.MM.yyyy": "05.03.2025",
    "MM.dd.yyyy": "03.05.2025",
    "yyyy.MM.dd": "2025.03.05",
    "dd-MMM-yyyy": "05-Mar-2025",
    "dd MMM yyyy": "05 Mar 2025",
    "MMM dd, yyyy": "Mar 05, 2025",
    "MMM dd yyyy": "Mar 05 2025",
    "dd/MMM/yyyy": "05/Mar/2025",
    "d/M/yyyy": "5/3/2025",
    "M/d/yyyy": "3/5/2025",
    "dd-MM-yy": "05-03-25",
    "MM-dd-yy": "03-05-25",
    "yy-MM-dd": "25-03-05",
    "EEE, dd MMM yyyy": "Wed, 05 Mar 2025",
    # Zoho CRM's documented date patterns.
    "dd MMM yy": "05 Mar 25",
    "yy MMM dd": "25 Mar 05",
    "MMM/dd/yy": "Mar/05/25",
    "yyyy.MMM.dd": "2025.Mar.05",
    "dd-MMMM-yy": "05-March-25",
    "yy-MMMM-dd": "25-March-05",
    "MMMM-dd-yy": "March-05-25",
    "dd.MMMM.yy": "05.March.25",
    "yy.MMMM.dd": "25.March.05",
    "yyyy-MMMM-dd": "2025-March-05",
    "dd MMMM yyyy": "05 March 2025",
    "MMM-dd-yy": "Mar-05-25",
    "MMM/dd/yyyy": "Mar/05/2025",
    "yyyy/MMMM/dd": "2025/March/05",
    "yyyy MMMM dd": "2025 March 05",
    "MMM.dd.yy": "Mar.05.25",
    "dd-MMM-yy": "05-Mar-25",
    "yy-MMM-dd": "25-Mar-05",
    "MMMM-dd-yyyy": "March-05-2025",
    "dd.MM.yy": "05.03.25",
    "MM.dd.yy": "03.05.25",
    "yy.MM.dd": "25.03.05",
    "dd MM yyyy": "05 03 2025",
    "MM dd yyyy": "03 05 2025",
    "dd-MMMM-yyyy": "05-March-2025",
    "MMM.dd.yyyy": "Mar.05.2025",
    "yyyy MM dd": "2025 03 05",
    "dd/MM/yy": "05/03/25",
    "MM/dd/yy": "03/05/25",
    "yy/MM/dd": "25/03/05",
    "MMMM.dd.yyyy": "March.05.2025",
    "dd/MMMM/yyyy": "05/March/2025",
    "dd.MMM.yyyy": "05.Mar.2025",
    "dd/MMM/yy": "05/Mar/25",
    "yy/MMM/dd": "25/Mar/05",
    "yyyy/MMM/dd": "2025/Mar/05",
    "yyyy MMM dd": "2025 Mar 05",
    "dd.MMM.yy": "05.Mar.25",
    "yy.MMM.dd": "25.Mar.05",
    "yyyy.MMMM.dd": "2025.March.05",
    "MMMM dd yy": "March 05 25",
    "MMM dd,yyyy": "Mar 05,2025",
    "MMMM dd,yyyy": "March 05,2025",
    "dd/MMMM/yy": "05/March/25",
    "yy/MMMM/dd": "25/March/05",
    # The Deluge table's other patterns.
    "dd MMM,yy": "05 Mar,25",
    "MMM dd,yy": "Mar 05,25",
    "dd MMM,yyyy": "05 Mar,2025",
    "dd MMMM,yy": "05 March,25",
    "MMMM dd,yy": "March 05,25",
    "dd MMMM,yyyy": "05 March,2025",
    "E,MMMM dd,yyyy": "Wed,March 05,2025",
    "E,MMM dd,yyyy": "Wed,Mar 05,2025",
    "MMM dd yy": "Mar 05 25",
    "dd MMMM yy": "05 March 25",
    "MMMM dd yyyy": "March 05 2025",
    # Unpadded, full-name and quoted variants.
    "d-M-yyyy": "5-3-2025",
    "d.M.yyyy": "5.3.2025",
    "yyyy/M/d": "2025/3/5",
    "d MMM yyyy": "5 Mar 2025",
    "MMMM d, yyyy": "March 5, 2025",
    "EEEE, dd MMMM yyyy": "Wednesday, 05 March 2025",
    "dd 'of' MMMM yyyy": "05 of March 2025",
    "yyyy''MM''dd": "2025'03'05",
}


@pytest.mark.parametrize(("java", "text"), PATTERNS.items(), ids=list(PATTERNS))
def test_each_pattern_reads_the_date_zoho_writes(java: str, text: str) -> None:
    fmt = strptime_format(java)
    assert datetime.strptime(text, fmt).date() == DAY
    assert parse_date(text, fmt) == DAY


@pytest.mark.parametrize("java", list(PATTERNS))
def test_each_pattern_round_trips_a_day_past_the_twelfth(java: str) -> None:
    """22 December 2024 cannot be read month-first, so a swapped day and month fails here loudly."""
    fmt = strptime_format(java)
    day = date(2024, 12, 22)
    assert parse_date(day.strftime(fmt), fmt) == day


@pytest.mark.parametrize(
    ("java", "expected"),
    [
        ("dd.MM.yyyy", "%d.%m.%Y"),
        ("d/M/yy", "%d/%m/%y"),
        ("dd-MMM-yyyy", "%d-%b-%Y"),
        ("MMMM dd, yyyy", "%B %d, %Y"),
        ("EEE, dd MMM yyyy", "%a, %d %b %Y"),
        ("EEEE dd MMMM yyyy", "%A %d %B %Y"),
        ("dd 'de' MMMM yyyy", "%d de %B %Y"),
        ("yyyy''MM''dd", "%Y'%m'%d"),
        ("dd%MM%yyyy", "%d%%%m%%%Y"),
        ("'100%' dd-MM-yyyy", "100%% %d-%m-%Y"),
    ],
)
def test_translation(java: str, expected: str) -> None:
    assert strptime_format(java) == expected


def test_a_percent_sign_is_read_literally() -> None:
    assert parse_date("05%03%2025", strptime_format("dd%MM%yyyy")) == DAY


@pytest.mark.parametrize(
    ("java", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("dd-MM", "no year"),
        ("MM/yyyy", "no day"),
        ("dd yyyy", "no month"),
        ("EEE", "no day and no month and no year"),
        ("dd-MM-yyyy HH:mm", "letter 'H'"),
        ("hh:mm a", "letter 'h'"),
        ("D-MM-yyyy", "letter 'D'"),
        ("dd-LL-yyyy", "letter 'L'"),
        ("dd-MM-uuuu", "letter 'u'"),
        ("ddd-MM-yyyy", "'ddd'"),
        ("yyyyy-MM-dd", "'yyyyy'"),
        ("MMMMM dd yyyy", "'MMMMM'"),
        ("EEEEE dd-MM-yyyy", "'EEEEE'"),
        ("dd-MM-yyyy (dd)", "day twice"),
        ("MM dd-MM-yyyy", "month twice"),
        ("EEE dd-MM-yyyy EEE", "weekday twice"),
        ("dd-MM-yyyy 'at", "never closed"),
    ],
)
def test_refused_patterns_name_the_pattern_and_the_reason(java: str, reason: str) -> None:
    with pytest.raises(UnknownDateFormat) as caught:
        strptime_format(java)
    assert caught.value.pattern == java
    assert repr(java) in str(caught.value)
    assert reason in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_parse_date_fallback_keeps_day_first_for_month_name_formats() -> None:
    assert parse_date("11-01-2022", strptime_format("dd-MMM-yyyy")) == date(2022, 1, 11)


def test_parse_date_fallback_keeps_year_first_for_two_digit_years() -> None:
    assert parse_date("25/03/05", strptime_format("yy-MM-dd")) == DAY


# Zoho's confirmed answer to GET /api/v3/organization (docs/reference, "Organisation settings").
SAMPLE = {
    "TimeFormat": "hh:mm a",
    "Company": "89740123",
    "ContactMailId": "admin@example.com",
    "TimeZone": "Asia/Kolkata",
    "Address": {"City": "Chennai"},
    "DateFormat": "dd.MM.yyyy",
    "Website": "",
    "ContactNumber": "",
    "ContactPerson": "Admin",
}


def test_the_sample_answer() -> None:
    assert parse_organization(SAMPLE) == OrgSettings(
        zone="Asia/Kolkata", date_format="%d.%m.%Y", company="89740123", time_format="hh:mm a"
    )


def test_settings_are_plain_frozen_data() -> None:
    settings = parse_organization(SAMPLE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.zone = "UTC"  # type: ignore[misc]


def test_settings_read_a_session_in_the_org_format_and_zone() -> None:
    settings = parse_organization({**SAMPLE, "DateFormat": "dd-MMM-yyyy", "TimeZone": "Europe/Paris"})
    record = {"sessionId": "org-1", "sessionStartDate": "05-Mar-2025", "sessionStartTime": "9:00 AM"}
    session = parse_session(record, ZoneInfo(settings.zone), settings.date_format)
    assert session.start == datetime(2025, 3, 5, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"Company": 89740123}, {"company": "89740123"}),
        ({"Company": " 89740123 ", "TimeZone": " UTC "}, {"company": "89740123", "zone": "UTC"}),
        ({"TimeFormat": None}, {"time_format": ""}),
        ({"TimeFormat": "HH:mm"}, {"time_format": "HH:mm"}),
        ({"DateFormat": "MMM dd, yyyy"}, {"date_format": "%b %d, %Y"}),
        ({"TimeZone": "America/Argentina/Buenos_Aires"}, {"zone": "America/Argentina/Buenos_Aires"}),
    ],
)
def test_good_variants(changes: dict, expected: dict) -> None:
    body = {key: value for key, value in {**SAMPLE, **changes}.items() if value is not None}
    assert parse_organization(body) == dataclasses.replace(parse_organization(SAMPLE), **expected)


def _without(key: str) -> dict:
    return {name: value for name, value in SAMPLE.items() if name != key}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (_without("TimeZone"), "TimeZone", "no TimeZone"),
        ({**SAMPLE, "TimeZone": ""}, "TimeZone", "no TimeZone"),
        ({**SAMPLE, "TimeZone": 5.5}, "TimeZone", "no TimeZone"),
        ({**SAMPLE, "TimeZone": "Mars/Olympus_Mons"}, "TimeZone", "'Mars/Olympus_Mons' is not an IANA"),
        ({**SAMPLE, "TimeZone": "IST"}, "TimeZone", "'IST' is not an IANA"),
        ({**SAMPLE, "TimeZone": "America"}, "TimeZone", "'America' is not an IANA"),
        ({**SAMPLE, "TimeZone": "../etc/passwd"}, "TimeZone", "is not an IANA"),
        ({**SAMPLE, "TimeZone": "/etc/localtime"}, "TimeZone", "is not an IANA"),
        ({**SAMPLE, "TimeZone": "localtime"}, "TimeZone", "'localtime' is not an IANA"),
        (_without("DateFormat"), "DateFormat", "no DateFormat"),
        ({**SAMPLE, "DateFormat": ["dd.MM.yyyy"]}, "DateFormat", "no DateFormat"),
        (
            {**SAMPLE, "DateFormat": "dd.MM"},
            "DateFormat",
            "'dd.MM' cannot be read by the bot: it has no year",
        ),
        ({**SAMPLE, "DateFormat": "dd.MM.yyyy HH:mm"}, "DateFormat", "pattern letter 'H'"),
        (_without("Company"), "Company", "no Company id"),
        ({**SAMPLE, "Company": "  "}, "Company", "no Company id"),
        ({**SAMPLE, "Company": True}, "Company", "no Company id"),
        ({**SAMPLE, "TimeFormat": 12}, "TimeFormat", "TimeFormat should be text"),
        ([SAMPLE], "", "not a JSON object"),
    ],
)
def test_bad_bodies_are_refused_with_a_sentence(body: object, field: str, words: str) -> None:
    with pytest.raises(BadOrgSettings) as caught:
        parse_organization(body)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert words in str(caught.value)
    assert str(caught.value).endswith(".")
    assert isinstance(caught.value, ValueError)


def test_an_untranslatable_date_format_keeps_the_translation_error_as_cause() -> None:
    with pytest.raises(BadOrgSettings) as caught:
        parse_organization({**SAMPLE, "DateFormat": "dd-LL-yyyy"})
    assert isinstance(caught.value.__cause__, UnknownDateFormat)
    assert "Locale and Display Settings" in str(caught.value)
