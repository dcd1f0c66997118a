"""`/sessions <module>`: a module's upcoming sessions as an ephemeral Block Kit message."""
