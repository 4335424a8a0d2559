"""Database layer: declarative models, engines and the unit of work."""
