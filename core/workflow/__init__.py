"""Stage 1: the user's graph. Nodes (functions, command-line tools, MapNode,
JoinNode), workflows and their connections, and the expansion of iterables, maps and
joins into an execution graph of jobs."""
