"""The App Home tab: a person's reminded sessions, reminders and digests, with Stop buttons."""
