"""``floodwatch bench``: every hot path measured beside its ceiling or baseline, in one run."""
