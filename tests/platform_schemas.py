"""The platforms' published result formats, as the schema files in tests/schemas/ (each names its source), and
validators that list every way a document breaks one: [] when it is valid."""
import json
from functools import cache
from pathlib import Path

import jsonschema
import xmlschema

SCHEMAS = Path(__file__).parent / "schemas"
JSON_SCHEMAS = {"gradescope": "gradescope-results.schema.json", "prairielearn": "prairielearn-results.schema.json",
                "exercism": "exercism-results.schema.json"}


@cache
def _validator(platform: str):
    schema = json.loads((SCHEMAS / JSON_SCHEMAS[platform]).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(value, platform: str) -> list[str]:
    """Every way `value` (a parsed results.json) breaks the platform's schema, as 'where: what' lines."""
    found = sorted(_validator(platform).iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in found]


@cache
def _junit():
    return xmlschema.XMLSchema10(SCHEMAS / "junit-10.xsd")


def junit_errors(text: str) -> list[str]:
    """Every way a JUnit XML document breaks Jenkins' junit-10.xsd."""
    return [f"{e.path}: {e.reason}" for e in _junit().iter_errors(text)]
