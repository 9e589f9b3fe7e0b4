# The loader CPython names as the `__loader__` of a program read from a file.


class SourceFileLoader:
    def __init__(self, fullname, path):
        self.name = fullname
        self.path = path
