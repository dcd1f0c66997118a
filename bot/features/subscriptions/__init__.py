"""The rules every way of subscribing shares: the typed commands, the forms, App Home, `digest list`."""
