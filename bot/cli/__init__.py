"""Operator commands run from a terminal: each prints plain text and returns an exit code."""
