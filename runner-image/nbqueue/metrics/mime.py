"""The MIME types metrics travel in (docs/protocol.md, "Metrics")."""

# The chart output a cell shows: {"version": 1, "series": [{"name", "steps", "values", "times"}]}
METRICS_MIME = "application/vnd.nbqueue.metrics+json"

# Kernel -> runner only: {"version": 1, "points": [[name, step, value, time_ms], ...]}.
# The runner turns these into `metric` events and never stores them in the notebook.
POINTS_MIME = "application/vnd.nbqueue.metric-points+json"
