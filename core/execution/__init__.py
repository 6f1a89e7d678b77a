"""Stage 2: execution. Jobs (one per concrete node instance) and the execution graph
that holds them, the runner that applies the one scheduling policy through a
job-level or graph-level driver, and the session that validates a run and returns
its result."""
