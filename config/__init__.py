"""Shared, side-effect-free definitions: settings, station catalogue, units and the data contract.

Imports nothing else of floodwatch; ``store``, ``ingest``, ``dashboard`` and ``floodwatch`` import it.
"""
