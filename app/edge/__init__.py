"""What the two HTTP edges share, below both: the error middleware and the case presenters.

``app.api`` (JSON) and ``app.web`` (pages) import from here; nothing here imports either.
"""
