"""Pure functions that return Dash component trees (no data access, no callbacks)."""
