"""Bolt wiring that every feature shares: server, text helpers, error handling."""
