# The usage files are for the type checkers (tests/test_typing.py), not to be imported:
# usage_bad.py makes deliberate mistakes.
collect_ignore_glob = ["usage_*.py"]
