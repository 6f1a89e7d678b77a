"""Stage 4 of the data flow: the result store. One directory per node instance holds
its result (written atomically), its crash record and its job file; hashing turns
values, files and code into the digests that cache keys are made of. Depends on
nothing else in flowmill."""
