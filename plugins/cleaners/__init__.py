"""Built-in cleaners."""
