"""Package for concurrent.futures (its only module here)."""
