//! Python's scoping rules: local / global / nonlocal / cell / free.
