"""Slack's installations in the bot's database, on SQLite and PostgreSQL: slack_sdk's own
behaviours through the sealed store (its test cases for the SQLAlchemy store, mirrored), no
token in clear in the tables, a row sealed with another key refused, a tenant forgotten, the
installed tenants listed, and the OAuth flow's states."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk.oauth.installation_store import Bot, Installation
from sqlalchemy import insert, inspect, text

from bot.secrets import PREFIX, Secrets, WrongSecretKey
from bot.slack.installations import (
    BOT_SECRETS,
    BOTS_TABLE,
    INSTALLATION_SECRETS,
    INSTALLATIONS_TABLE,
    STATE_SECONDS,
    STATES_TABLE,
    InstalledTenant,
    SealedInstallationStore,
    SlackStores,
    open_slack_stores,
)
from bot.store.store import Store
from bot.tenants import Tenant

CLIENT_ID = "111.222"
KEY = "a-secret-key-of-more-than-thirty-two-characters"
OTHER_KEY = "another-secret-key-of-more-than-thirty-two-chars"
INSTALLED = datetime(2026, 3, 10, 7, 0, tzinfo=UTC)
LATER = INSTALLED + timedelta(days=1)
EXPIRES = int((INSTALLED + timedelta(hours=12)).timestamp())
ROTATED_EXPIRES = int((LATER + timedelta(hours=12)).timestamp())


@pytest.fixture
async def stores(database_url: str) -> AsyncIterator[SlackStores]:
    opened = await open_slack_stores(database_url, CLIENT_ID, Secrets.from_setting(KEY))
    yield opened
    await opened.aclose()


@pytest.fixture
def store(stores: SlackStores) -> SealedInstallationStore:
    return stores.installations


def install(
    team_id: str | None = "T111",
    enterprise_id: str | None = "E111",
    *,
    installed_at: datetime = INSTALLED,
    bot_token: str | None = "xoxb-111",
    **fields: Any,
) -> Installation:
    """A bot installation by U111 (a user's alone without `bot_token`); `fields` win."""
    bot = {"bot_id": "B111", "bot_user_id": "U222", "bot_scopes": ["chat:write"]} if bot_token else {}
    return Installation(
        app_id="A111",
        enterprise_id=enterprise_id,
        team_id=team_id,
        user_id=fields.pop("user_id", "U111"),
        bot_token=bot_token,
        installed_at=installed_at,
        **{**bot, **fields},
    )


async def rows(stores: SlackStores, table: str) -> list[dict[str, Any]]:
    """The table as plain SQL reads it, oldest row first."""
    async with stores.engine.connect() as connection:
        result = await connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))
        return [dict(row) for row in result.mappings()]


async def owners(stores: SlackStores) -> dict[str, set[tuple[Any, ...]]]:
    """(enterprise, team, org-wide) of every row, table by table."""
    return {
        table: {
            (r["enterprise_id"], r["team_id"], bool(r["is_enterprise_install"]))
            for r in await rows(stores, table)
        }
        for table in (INSTALLATIONS_TABLE, BOTS_TABLE)
    }


# --------------------------------------------------------------------------- slack_sdk's own cases


async def test_save_and_find(store: SealedInstallationStore) -> None:
    await store.async_save(install())

    bot = await store.async_find_bot(enterprise_id="E111", team_id="T111")
    assert bot is not None
    assert (bot.bot_token, bot.bot_id, bot.bot_scopes) == ("xoxb-111", "B111", ["chat:write"])
    assert await store.async_find_bot(enterprise_id="E111", team_id="T222") is None
    assert await store.async_find_bot(enterprise_id=None, team_id="T111") is None

    await store.async_delete_bot(enterprise_id="E111", team_id="T222")
    assert await store.async_find_bot(enterprise_id="E111", team_id="T222") is None

    found = await store.async_find_installation(enterprise_id="E111", team_id="T111")
    assert found is not None
    assert (found.bot_token, found.user_id) == ("xoxb-111", "U111")
    assert await store.async_find_installation(enterprise_id="E111", team_id="T222") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T111") is None

    assert (
        await store.async_find_installation(enterprise_id="E111", team_id="T111", user_id="U111") is not None
    )
    assert await store.async_find_installation(enterprise_id="E111", team_id="T111", user_id="U222") is None
    assert await store.async_find_installation(enterprise_id="E111", team_id="T222", user_id="U111") is None

    await store.async_delete_installation(enterprise_id="E111", team_id="T111", user_id="U111")
    assert await store.async_find_installation(enterprise_id="E111", team_id="T111", user_id="U111") is None
    assert await store.async_find_installation(enterprise_id="E111", team_id="T111") is None

    await store.async_save(install())
    await store.async_delete_all(enterprise_id="E111", team_id="T111")
    assert await store.async_find_installation(enterprise_id="E111", team_id="T111") is None
    assert await store.async_find_installation(enterprise_id="E111", team_id="T111", user_id="U111") is None
    assert await store.async_find_bot(enterprise_id="E111", team_id="T111") is None


async def test_org_installation(stores: SlackStores, store: SealedInstallationStore) -> None:
    org_wide = install(None, "EO111", bot_token="xoxb-O111", is_enterprise_install=True, user_id="UO111")
    await store.async_save(org_wide)

    bot = await store.async_find_bot(enterprise_id="EO111", team_id=None)
    assert bot is not None
    assert (bot.bot_token, bot.is_enterprise_install) == ("xoxb-O111", True)
    found = await store.async_find_bot(enterprise_id="EO111", team_id="TO222", is_enterprise_install=True)
    assert found is not None
    assert found.bot_token == "xoxb-O111", "any workspace of the enterprise finds the org-wide bot"
    assert await store.async_find_bot(enterprise_id="EO111", team_id="TO222") is None
    assert await store.async_find_bot(enterprise_id=None, team_id="TO111") is None

    await store.async_delete_bot(enterprise_id="EO111", team_id="TO222")
    assert await store.async_find_bot(enterprise_id="EO111", team_id=None) is not None
    await store.async_delete_bot(enterprise_id="EO111", team_id=None)
    assert await store.async_find_bot(enterprise_id="EO111", team_id=None) is None

    found_install = await store.async_find_installation(enterprise_id="EO111", team_id=None)
    assert found_install is not None
    assert found_install.bot_token == "xoxb-O111"
    in_a_workspace = await store.async_find_installation(
        enterprise_id="EO111", team_id="T111", is_enterprise_install=True
    )
    assert in_a_workspace is not None
    assert in_a_workspace.bot_token == "xoxb-O111", (
        "any workspace of the enterprise finds the org-wide install"
    )
    assert await store.async_find_installation(enterprise_id="EO111", team_id="T222") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T111") is None
    assert (
        await store.async_find_installation(enterprise_id="EO111", team_id=None, user_id="UO111") is not None
    )
    assert (
        await store.async_find_installation(
            enterprise_id="E111", team_id="T111", is_enterprise_install=True, user_id="U222"
        )
        is None
    )
    assert await store.async_find_installation(enterprise_id=None, team_id="T222", user_id="U111") is None

    await store.async_delete_installation(enterprise_id="EO111", team_id=None)
    assert await store.async_find_installation(enterprise_id="EO111", team_id=None) is None

    await store.async_save(org_wide)
    await store.async_delete_all(enterprise_id="EO111", team_id=None)
    assert await store.async_find_installation(enterprise_id="EO111", team_id=None) is None
    assert await store.async_find_installation(enterprise_id="EO111", team_id=None, user_id="UO111") is None
    assert await store.async_find_bot(enterprise_id="EO111", team_id=None) is None
    assert await rows(stores, INSTALLATIONS_TABLE) == []
    assert await rows(stores, BOTS_TABLE) == []


async def test_save_and_find_token_rotation(store: SealedInstallationStore) -> None:
    """A rotating token saved again as a new installation: the newer one is found."""
    await store.async_save(
        install(
            bot_token="xoxe.xoxb-1-initial", bot_refresh_token="xoxe-1-initial", bot_token_expires_at=EXPIRES
        )
    )
    bot = await store.async_find_bot(enterprise_id="E111", team_id="T111")
    assert bot is not None
    assert bot.bot_refresh_token == "xoxe-1-initial"

    await store.async_save(
        install(
            installed_at=LATER,
            bot_token="xoxe.xoxb-1-refreshed",
            bot_refresh_token="xoxe-1-refreshed",
            bot_token_expires_at=ROTATED_EXPIRES,
        )
    )

    bot = await store.async_find_bot(enterprise_id="E111", team_id="T111")
    assert bot is not None
    assert (bot.bot_token, bot.bot_refresh_token, bot.bot_token_expires_at) == (
        "xoxe.xoxb-1-refreshed",
        "xoxe-1-refreshed",
        ROTATED_EXPIRES,
    )
    found = await store.async_find_installation(enterprise_id="E111", team_id="T111", user_id="U111")
    assert found is not None
    assert (found.bot_token, found.bot_refresh_token) == ("xoxe.xoxb-1-refreshed", "xoxe-1-refreshed")
    assert await store.async_find_bot(enterprise_id="E111", team_id="T222") is None
    assert await store.async_find_bot(enterprise_id=None, team_id="T111") is None


async def test_mixing_user_and_bot_installations(store: SealedInstallationStore) -> None:
    """slack_sdk's issue 1441: a later user-only installation still finds the workspace's bot token."""
    await store.async_save(install())
    found = await store.async_find_installation(enterprise_id="E111", team_id="T111")
    assert found is not None
    assert found.bot_token == "xoxb-111"

    await store.async_save(install(installed_at=LATER, bot_token=None, user_token="xoxp-111"))

    bot = await store.async_find_bot(enterprise_id="E111", team_id="T111")
    assert bot is not None
    assert bot.bot_token == "xoxb-111"
    found = await store.async_find_installation(enterprise_id="E111", team_id="T111")
    assert found is not None
    assert (found.bot_token, found.user_token) == ("xoxb-111", "xoxp-111")
    assert await store.async_find_installation(enterprise_id="E111", team_id="T222") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T111") is None


# --------------------------------------------------------------------------- updates in place


async def test_rotation_updates_the_rows_in_place_as_bolts_token_rotator_saves(
    stores: SlackStores, store: SealedInstallationStore
) -> None:
    """Bolt's rotator copies what it found, with the new tokens, and saves it: the same
    `installed_at`, so slack_sdk updates the row rather than adding one."""
    await store.async_save(
        install(bot_token="xoxe.xoxb-1-first", bot_refresh_token="xoxe-1-first", bot_token_expires_at=EXPIRES)
    )
    found = await store.async_find_installation(enterprise_id="E111", team_id="T111")
    assert found is not None
    rotated = Installation(**found.to_dict_for_copying())
    rotated.bot_token, rotated.bot_refresh_token = "xoxe.xoxb-1-second", "xoxe-1-second"
    rotated.bot_token_expires_at = ROTATED_EXPIRES

    await store.async_save(rotated)

    assert [len(await rows(stores, t)) for t in (INSTALLATIONS_TABLE, BOTS_TABLE)] == [1, 1]
    found = await store.async_find_installation(enterprise_id="E111", team_id="T111")
    assert found is not None
    assert (found.bot_token, found.bot_refresh_token, found.bot_token_expires_at) == (
        "xoxe.xoxb-1-second",
        "xoxe-1-second",
        ROTATED_EXPIRES,
    )

    bot = await store.async_find_bot(enterprise_id="E111", team_id="T111")
    assert bot is not None
    refreshed = Bot(**bot.to_dict_for_copying())
    refreshed.bot_token, refreshed.bot_refresh_token = "xoxe.xoxb-1-third", "xoxe-1-third"
    refreshed.bot_token_expires_at = ROTATED_EXPIRES + 3600

    await store.async_save_bot(refreshed)

    assert len(await rows(stores, BOTS_TABLE)) == 1
    bot = await store.async_find_bot(enterprise_id="E111", team_id="T111")
    assert bot is not None
    assert (bot.bot_token, bot.bot_refresh_token, bot.bot_token_expires_at) == (
        "xoxe.xoxb-1-third",
        "xoxe-1-third",
        ROTATED_EXPIRES + 3600,
    )
    found = await store.async_find_installation(enterprise_id="E111", team_id="T111", user_id="U111")
    assert found is not None
    assert found.bot_token == "xoxe.xoxb-1-third", "a user's lookup takes the bot's newest token"
    for row in await rows(stores, BOTS_TABLE) + await rows(stores, INSTALLATIONS_TABLE):
        assert row["bot_token"].startswith(PREFIX)


async def test_a_second_install_into_the_same_workspace_replaces_the_first(
    stores: SlackStores, store: SealedInstallationStore
) -> None:
    await store.async_save(install(bot_token="xoxb-first", bot_id="B1"))
    await store.async_save(install(installed_at=LATER, bot_token="xoxb-second", bot_id="B2"))

    assert [len(await rows(stores, t)) for t in (INSTALLATIONS_TABLE, BOTS_TABLE)] == [1, 1], (
        "nothing doubled"
    )
    bot = await store.async_find_bot(enterprise_id="E111", team_id="T111")
    found = await store.async_find_installation(enterprise_id="E111", team_id="T111")
    assert bot is not None
    assert found is not None
    assert (bot.bot_token, bot.bot_id) == ("xoxb-second", "B2")
    assert (found.bot_token, found.bot_id) == ("xoxb-second", "B2")
    assert found.installed_at == LATER.timestamp()


# --------------------------------------------------------------------------- sealed at rest


async def test_the_tables_hold_no_token_in_clear(stores: SlackStores, store: SealedInstallationStore) -> None:
    """Every credential column holds a sealed value; no plain token is anywhere in a row. The
    tokens are as long as Slack's rotating ones: sealed, they outgrow slack_sdk's String(200)."""
    plain = {
        "bot_token": "xoxe.xoxb-1-" + "B" * 150,
        "bot_refresh_token": "xoxe-1-" + "R" * 140,
        "user_token": "xoxe.xoxp-1-" + "U" * 150,
        "user_refresh_token": "xoxe-1-" + "S" * 140,
        "incoming_webhook_url": "https://hooks.slack.com/services/T111/B111/" + "w" * 24,
    }
    await store.async_save(
        install(
            **plain,
            bot_token_expires_at=EXPIRES,
            user_token_expires_at=EXPIRES,
            incoming_webhook_channel="#general",
            incoming_webhook_channel_id="C111",
        )
    )
    await store.async_save(install("T222", None, bot_token=None, user_token="xoxp-only-a-user"))

    installations, bots = await rows(stores, INSTALLATIONS_TABLE), await rows(stores, BOTS_TABLE)
    for table, names in ((installations, INSTALLATION_SECRETS), (bots, BOT_SECRETS)):
        for row in table:
            for name in names:
                assert row[name] is None or row[name].startswith(PREFIX), f"{name} in clear"
            for token in [*plain.values(), "xoxp-only-a-user"]:
                assert token not in str(row.values())
    assert installations[0]["incoming_webhook_channel"] == "#general", "not a credential: left plain"
    found = await store.async_find_installation(enterprise_id="E111", team_id="T111")
    assert found is not None
    assert {name: getattr(found, name) for name in plain} == plain


async def test_a_row_sealed_with_another_key_is_refused_with_the_typed_error(
    stores: SlackStores, store: SealedInstallationStore
) -> None:
    """Raised rather than read as no installation: Bolt would tell every workspace to reinstall,
    when the remedy is to put the old secret back in BOT_SECRET_KEY, which the error says."""
    await store.async_save(install())
    other = SealedInstallationStore(CLIENT_ID, stores.engine, Secrets.from_setting(OTHER_KEY))

    with pytest.raises(WrongSecretKey, match="BOT_SECRET_KEY"):
        await other.async_find_bot(enterprise_id="E111", team_id="T111")
    with pytest.raises(WrongSecretKey, match="BOT_SECRET_KEY"):
        await other.async_find_installation(enterprise_id="E111", team_id="T111")
    assert [t.tenant_id for t in await other.installed_tenants()] == ["T111"], "listing reads no token"

    rotating = SealedInstallationStore(CLIENT_ID, stores.engine, Secrets.from_setting(f"{OTHER_KEY},{KEY}"))
    bot = await rotating.async_find_bot(enterprise_id="E111", team_id="T111")
    assert bot is not None
    assert bot.bot_token == "xoxb-111", "the old key, kept second while rotating, still opens it"


# --------------------------------------------------------------------------- tenants


async def _four_tenants(store: SealedInstallationStore) -> None:
    """T1 (installed twice, and by a user alone), T2, T3 (a workspace of enterprise E1) and E1
    (installed org-wide)."""
    await store.async_save(install("T1", None, bot_token="xoxb-t1-old"))
    await store.async_save(install("T1", None, installed_at=LATER, bot_token="xoxb-t1"))
    by_a_user = install("T1", None, installed_at=LATER + timedelta(hours=1), bot_token=None, user_id="U9")
    await store.async_save(by_a_user)
    await store.async_save(install("T2", None, bot_token="xoxb-t2"))
    await store.async_save(install("T3", "E1", bot_token="xoxb-t3"))
    await store.async_save(install(None, "E1", bot_token="xoxb-e1", is_enterprise_install=True))


async def test_forgetting_a_workspace_leaves_every_other_tenants_rows(
    stores: SlackStores, store: SealedInstallationStore
) -> None:
    await _four_tenants(store)
    others = {(None, "T2", False), ("E1", "T3", False), ("E1", None, True)}

    assert await store.forget_installations(Tenant.workspace("T1")) == 4, (
        "its second install replaced the first"
    )

    assert await owners(stores) == {INSTALLATIONS_TABLE: others, BOTS_TABLE: others}
    assert await store.async_find_installation(enterprise_id=None, team_id="T1") is None
    bot = await store.async_find_bot(enterprise_id=None, team_id="T2")
    assert bot is not None
    assert bot.bot_token == "xoxb-t2"


async def test_forgetting_an_org_wide_install_deletes_the_enterprises_rows_not_its_workspaces(
    stores: SlackStores, store: SealedInstallationStore
) -> None:
    await _four_tenants(store)

    assert await store.forget_installations(Tenant("", "E1", org_wide=True)) == 2

    left = await owners(stores)
    assert ("E1", None, True) not in left[INSTALLATIONS_TABLE] | left[BOTS_TABLE]
    assert left[BOTS_TABLE] == {(None, "T1", False), (None, "T2", False), ("E1", "T3", False)}
    assert await store.async_find_bot(enterprise_id="E1", team_id="T3", is_enterprise_install=True) is None
    bot = await store.async_find_bot(enterprise_id="E1", team_id="T3")
    assert bot is not None
    assert bot.bot_token == "xoxb-t3", "a workspace of the enterprise installed on its own is its own tenant"
    assert await store.forget_installations(Tenant("", "E1", org_wide=True)) == 0


async def test_installed_tenants_lists_each_tenant_once_as_its_newest_bot(
    store: SealedInstallationStore,
) -> None:
    await _four_tenants(store)
    await store.async_save(install("T4", None, bot_token=None, user_token="xoxp-only-a-user"))

    listed = await store.installed_tenants()

    assert listed == [
        InstalledTenant("E1", None, "E1", True, INSTALLED),
        InstalledTenant("T1", "T1", None, False, LATER),
        InstalledTenant("T2", "T2", None, False, INSTALLED),
        InstalledTenant("T3", "T3", "E1", False, INSTALLED),
    ], "T4 has no bot token: nothing to serve it with"
    assert [t.tenant for t in listed] == [
        Tenant("", "E1", org_wide=True),
        Tenant("T1"),
        Tenant("T2"),
        Tenant("T3", "E1"),
    ]
    assert [t.tenant.id for t in listed] == ["E1", "T1", "T2", "T3"]
    assert await store.installed_tenants(only="T2") == [listed[2]], "one tenant, found by its id"
    assert await store.installed_tenants(only="E1") == [listed[0]]
    assert await store.installed_tenants(only="T4") == []

    await store.async_delete_bot(enterprise_id="E1", team_id=None)
    await store.forget_installations(listed[1].tenant)
    assert [t.tenant_id for t in await store.installed_tenants()] == ["T2", "T3"]


# --------------------------------------------------------------------------- the OAuth flow's states


async def test_a_state_is_consumed_once(stores: SlackStores) -> None:
    state = await stores.states.async_issue()

    assert await stores.states.async_consume(state) is True
    assert await stores.states.async_consume(state) is False
    assert await stores.states.async_consume("never-issued") is False


async def test_a_state_is_valid_ten_minutes(stores: SlackStores) -> None:
    before = datetime.now(UTC).replace(tzinfo=None)
    await stores.states.async_issue()
    after = datetime.now(UTC).replace(tzinfo=None)

    [row] = await rows(stores, STATES_TABLE)
    expire_at = row["expire_at"]
    if isinstance(expire_at, str):  # SQLite returns the text under plain SQL
        expire_at = datetime.fromisoformat(expire_at)
    assert before + timedelta(seconds=STATE_SECONDS) <= expire_at <= after + timedelta(seconds=STATE_SECONDS)
    assert STATE_SECONDS == 600


async def test_an_expired_state_is_refused(stores: SlackStores) -> None:
    """States issued more than ten minutes ago, written as slack_sdk writes them (naive UTC)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    async with stores.engine.begin() as connection:
        await connection.execute(
            insert(stores.states.oauth_states),
            [
                {"state": "expired", "expire_at": now - timedelta(seconds=1)},
                {"state": "still-valid", "expire_at": now + timedelta(minutes=1)},
            ],
        )

    assert await stores.states.async_consume("expired") is False
    assert await stores.states.async_consume("still-valid") is True


# --------------------------------------------------------------------------- the tables


async def test_the_tables_sit_beside_the_stores_and_a_second_start_keeps_them(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        first = await open_slack_stores(database_url, CLIENT_ID, Secrets.from_setting(KEY))
        await first.installations.async_save(install())
        await first.aclose()
        again = await open_slack_stores(database_url, CLIENT_ID, Secrets.from_setting(KEY))
        try:
            async with again.engine.connect() as connection:
                names = set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
            bot = await again.installations.async_find_bot(enterprise_id="E111", team_id="T111")
        finally:
            await again.aclose()
    finally:
        await store.close()

    assert {INSTALLATIONS_TABLE, BOTS_TABLE, STATES_TABLE, "digests", "zoho_connections"} <= names
    assert bot is not None
    assert bot.bot_token == "xoxb-111"
