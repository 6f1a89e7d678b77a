"""The observers the core registers for every run (see
``flowmill.contract.manager.BUILTIN_OBSERVERS``), plugins of the event hooks exactly
like a third party's: per-node log lines, the run record, the progress display."""
