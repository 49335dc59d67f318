"""Built-in tasks of the core (the quickstart lives here)."""
