"""Stage 3: the backend contract. What a backend declares and implements, what it
exchanges with the core, the run options and states every backend shares, and the
plugin manager that finds backends and observers. Authors see it through
``flowmill.backend``."""
