"""Bolt's start-up warnings that describe intended behaviour, filtered from the log."""

from __future__ import annotations

import logging

from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped, warning_token_skipped


class _KnownNoise(logging.Filter):
    """Bolt warns that the client and `authorize` we give it win over the `SLACK_BOT_TOKEN` it
    read from the environment itself: true, intended, and it sent operators looking for a problem."""

    NOISE = frozenset({warning_client_prioritized_and_token_skipped(), warning_token_skipped()})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self.NOISE


KNOWN_NOISE = _KnownNoise()


def quiet_known_noise() -> None:
    """Idempotent: the same filter object is added once."""
    logging.getLogger("slack_bolt.AsyncApp").addFilter(KNOWN_NOISE)
