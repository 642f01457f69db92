"""The checks here run under the grader, which loads your file into each check as `impl`: plain pytest cannot run
them. Say so once, with the command to use, instead of an error for every check."""
import pytest


def pytest_configure(config):
    for marker in ("points(n): the points a check is worth", "hint(text): shown with its failure",
                   "hidden: graded, not in the handout"):
        config.addinivalue_line("markers", marker)


def pytest_collection_finish(session):
    slugs = sorted({item.path.parent.name for item in session.items})
    if slugs:
        also = " (or `grader test --all` for every problem you have started)" if len(slugs) > 1 else ""
        pytest.exit(f"These are the grader's checks: they need your file loaded as `impl`. Grade it with "
                    f"`grader test {slugs[0]}`{also}.", returncode=4)
