"""Durable state: subscriptions, reminders, what was sent, and the scheduler's lease."""
