"""The door's routes, one module per concern."""
