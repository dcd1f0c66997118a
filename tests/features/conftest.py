"""The feature tests drive the bot end to end with the Slack fixtures."""

from tests.slack.conftest import bot_env, make_bot, sb, slack, walked

__all__ = ["bot_env", "make_bot", "sb", "slack", "walked"]
