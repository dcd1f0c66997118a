"""Change notices: a channel or a person told once when a followed session moves, is cancelled or is added."""
