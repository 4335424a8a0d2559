"""Background jobs on Dramatiq: Redis in production, in-process on the embedded set-up."""
