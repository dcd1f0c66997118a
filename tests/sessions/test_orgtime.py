"""Whose zone and date format Zoho's times are read in: the operator's settings win over what is
learnt from Zoho; learning or forgetting changes `version`, so parsed sessions are parsed again."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.sessions.orgtime import DEFAULT, FROM_ENVIRONMENT, OrgTime


def test_learnt_settings_are_used_until_forgotten() -> None:
    orgtime = OrgTime(ZoneInfo("UTC"), "%d-%m-%Y", zone_set=False, date_format_set=False)
    before = orgtime.version
    orgtime.learn("Asia/Kolkata", "%m-%d-%Y", "Zoho")
    assert (orgtime.zone, orgtime.date_format) == (ZoneInfo("Asia/Kolkata"), "%m-%d-%Y")
    assert (orgtime.zone_source, orgtime.date_format_source) == ("Zoho", "Zoho")
    assert orgtime.version > before
    orgtime.forget()
    assert (orgtime.zone, orgtime.date_format, orgtime.zone_source) == (ZoneInfo("UTC"), "%d-%m-%Y", DEFAULT)


def test_what_the_operator_set_wins_over_what_zoho_says() -> None:
    orgtime = OrgTime(ZoneInfo("Europe/Paris"), "%d-%m-%Y", zone_set=True, date_format_set=False)
    orgtime.learn("Asia/Kolkata", "%m-%d-%Y", "Zoho")
    assert (orgtime.zone, orgtime.zone_source) == (ZoneInfo("Europe/Paris"), FROM_ENVIRONMENT)
    assert (orgtime.date_format, orgtime.date_format_source) == ("%m-%d-%Y", "Zoho")
    orgtime.forget()
    assert orgtime.zone == ZoneInfo("Europe/Paris")
