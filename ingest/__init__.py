"""The write path: MQTT transport -> decode/validate -> batch -> InfluxDB sink -> acknowledge.

Imports ``config`` and ``store``; never ``dashboard``.
"""
