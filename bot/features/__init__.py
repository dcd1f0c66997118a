"""One folder per thing a person sees; each has a `register(app, deps)` and pure `render.py`."""
