"""floodwatch command-line entry points: services, ingest, replay, export, catalogue, up."""
