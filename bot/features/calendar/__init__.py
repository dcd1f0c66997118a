"""Sessions in people's calendars: a file per session, and feeds that stay true."""
