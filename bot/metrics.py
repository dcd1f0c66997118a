"""What `/metrics` shows, in Prometheus' text format (prometheus-client, its default registry,
so the process's own CPU and memory figures come along).

Counters and histograms are updated where things happen (a Slack request
answered, a Zoho call made, a send settled). Gauges of shared state (the Zoho
budget, the lock) are read when scraped, since any instance may change them;
the scheduler sets its own (last tick, leadership, data age, paused
subscriptions) each tick; the event loop's lag is observed by `loop_lag.LoopLag`.
"""

from __future__ import annotations

import re

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

PREFIX = "sessions_bot"
disable_created_metrics()  # the `*_created` series double the scrape and no dashboard reads them

SLACK_REQUESTS = Counter(
    f"{PREFIX}_slack_requests",
    "Requests to /slack/events by kind and outcome (ok, told, error, dropped, refused); "
    "kind `unverified` for a failed signature, `unreadable` for a body Bolt cannot parse.",
    ["kind", "outcome"],
)
SLACK_REQUEST_SECONDS = Histogram(
    f"{PREFIX}_slack_request_seconds",
    "From a Slack request's arrival to the person's answer, by kind.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0),
)
ZOHO_CALLS = Counter(
    f"{PREFIX}_zoho_calls",
    "Calls to Zoho People's LMS API, by endpoint (ids as {id}) and outcome.",
    ["endpoint", "outcome"],
)
ZOHO_BUDGET_LEFT = Gauge(
    f"{PREFIX}_zoho_budget_left",
    "Zoho calls the organisation may still make (all instances), this minute and today.",
    ["window"],
)
ZOHO_LOCKED = Gauge(f"{PREFIX}_zoho_locked", "1 while Zoho's lock on the organisation lasts.")
SENDS = Counter(
    f"{PREFIX}_sends",
    "Digests, reminders and notices settled, by kind and outcome (sent, failed, retry, skipped, found).",
    ["kind", "outcome"],
)
PAUSED_SUBSCRIPTIONS = Gauge(
    f"{PREFIX}_paused_subscriptions", "Digests and reminders paused with a reason.", ["kind"]
)
FOLLOWED_DATA_AGE = Gauge(
    f"{PREFIX}_followed_data_age_seconds",
    "Age of the data held for followed modules (oldest, median); modules with none are counted apart.",
    ["stat"],
)
TENANTS = Gauge(
    f"{PREFIX}_tenants",
    "Tenants served (installed), with Zoho connected (connected), with a paused subscription (paused).",
    ["state"],
)
FOLLOWED_WITHOUT_DATA = Gauge(f"{PREFIX}_followed_modules_without_data", "Followed modules never read.")
SCHEDULER_LAST_TICK = Gauge(
    f"{PREFIX}_scheduler_last_tick_timestamp_seconds", "When this instance's scheduler last ticked."
)
SCHEDULER_LEADER = Gauge(f"{PREFIX}_scheduler_leader", "1 when this instance led the last tick.")
EVENT_LOOP_LAG = Histogram(
    f"{PREFIX}_event_loop_lag_seconds",
    "How late a periodic wake-up on the event loop came: how long everything else waited then.",
    buckets=(0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5),
)

_ID_SEGMENT = re.compile(r"(?<=/)(?!v\d+(?:/|$))[^/]*\d[^/]*(?=/|$)")


def endpoint(path: str) -> str:
    """A Zoho path with its ids as `{id}`, so the label has a handful of values."""
    return _ID_SEGMENT.sub("{id}", path)


def exposition() -> tuple[bytes, str]:
    """The current scrape body and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
