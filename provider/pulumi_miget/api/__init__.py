"""The Miget API: the shared HTTP client (:mod:`.http`) and one client per collection
(:mod:`.credentials`, :mod:`.apps`) that owns its paths, bodies and wire names."""
