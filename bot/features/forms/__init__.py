"""Subscriptions by pointing and clicking: the reminder and digest modals, their module
search, and the "Upcoming sessions" shortcut."""
