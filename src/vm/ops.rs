//! The object protocol (CPython's `abstract.c` / `object.c`): operators,
//! comparisons, truth, hashing, repr/str, attributes and items.
