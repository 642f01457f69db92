"""The hostile submissions and their fixture problems are graded by tests/test_hostile.py, never collected."""
collect_ignore = ["root", "open_root", "cases"]
