"""The files that `grader new` and `grader export` write, with `%%name` placeholders, and their rendering."""
from pathlib import Path
from string import Template

FOLDER = Path(__file__).resolve().parent


class _Template(Template):
    delimiter = "%%"  # `$` and `@` are bash's, YAML's and Python's own in the templates


def render(template: str, /, **values) -> str:
    """The file `template` (a path relative to this folder) with its placeholders filled in."""
    return _Template((FOLDER / template).read_text(encoding="utf-8")).substitute(values)
