# The importer CPython names as the `__loader__` of a program given with -c
# or on stdin.


class BuiltinImporter:
    pass
