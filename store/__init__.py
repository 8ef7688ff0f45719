"""InfluxDB access through the v1-compatible HTTP API (``/write``, ``/query``), shared by all parts.

Imports ``config`` only. The one code path serves InfluxDB 1.x, 2.x (v1 compatibility, token) and
3.x (v1 compatibility) alike (DESIGN.md §3).
"""
