"""The read path and UI: a Dash app over InfluxDB. Imports ``config`` and ``store``; never ``ingest``."""
