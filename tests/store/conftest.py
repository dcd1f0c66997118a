"""The store tests run on both backends: a SQLite file and a fresh PostgreSQL database."""

from tests.store.harness import backend, database_url, postgres_server

__all__ = ["backend", "database_url", "postgres_server"]
