"""The zone and date format Zoho's wall-clock times and dates are read in, and where each came from.

Zoho returns dates in the organisation's own format and times with no zone, in the
organisation's zone. The operator's ZOHO_TIMEZONE and ZOHO_DATE_FORMAT, when set,
win; otherwise the bot learns both from Zoho once connected (or from the person
who connected, when Zoho will not tell a non-admin), and until then reads UTC and
day-month-year. One `OrgTime` per connection, read at each use, so a change takes
effect at once; `version` changes with it, so parsed sessions are parsed again.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

FROM_ENVIRONMENT = "set by the operator"
DEFAULT = "the default"


class OrgTime:
    def __init__(self, zone: ZoneInfo, date_format: str, zone_set: bool, date_format_set: bool) -> None:
        """`zone_set` / `date_format_set`: given by the operator, so nothing learnt replaces them."""
        self._fixed_zone = zone if zone_set else None
        self._fixed_format = date_format if date_format_set else None
        self._zone = zone
        self._date_format = date_format
        self._default = (zone, date_format)
        self._sources = (
            FROM_ENVIRONMENT if zone_set else DEFAULT,
            FROM_ENVIRONMENT if date_format_set else DEFAULT,
        )
        self.version = 0
        self.awaiting = False
        """Connected, but the organisation's zone or date format is not known yet: Zoho's times
        would be read wrongly, so nothing is shown from them until they are."""

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    @property
    def date_format(self) -> str:
        return self._date_format

    @property
    def zone_source(self) -> str:
        return self._sources[0]

    @property
    def date_format_source(self) -> str:
        return self._sources[1]

    def expect(self) -> None:
        """Connected without the organisation's settings: wait for them, unless the operator set both."""
        self.awaiting = self._fixed_zone is None or self._fixed_format is None

    def learn(self, zone: str, date_format: str, source: str) -> None:
        """The organisation's own settings, from `source` (Zoho, or the person who connected)."""
        zone_source, format_source = self._sources
        if self._fixed_zone is None:
            self._zone, zone_source = ZoneInfo(zone), source
        if self._fixed_format is None:
            self._date_format, format_source = date_format, source
        self._changed(zone_source, format_source)

    def forget(self) -> None:
        """Disconnected: back to what the operator set, or the defaults."""
        zone, date_format = self._default
        self._zone = self._fixed_zone or zone
        self._date_format = self._fixed_format or date_format
        self._changed(
            FROM_ENVIRONMENT if self._fixed_zone else DEFAULT,
            FROM_ENVIRONMENT if self._fixed_format else DEFAULT,
        )

    def _changed(self, zone_source: str, format_source: str) -> None:
        self._sources = (zone_source, format_source)
        self.awaiting = False
        self.version += 1
