"""Gradescope's results.json as a JSON schema (from shared/research/platform-formats.md), and a validator.

The validator knows the keywords this schema uses (type, properties, required, additionalProperties,
enum, items, minimum), so the tests need no extra dependency.
"""

_FORMATS = ["text", "simple_format", "html", "md", "ansi"]
_VISIBILITY = ["hidden", "after_due_date", "after_published", "visible"]

TEST = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number", "minimum": 0},
        "status": {"enum": ["passed", "failed"]},
        "name": {"type": "string"},
        "name_format": {"enum": _FORMATS},
        "number": {"type": "string"},
        "output": {"type": "string"},
        "output_format": {"enum": _FORMATS},
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": {"enum": _VISIBILITY},
        "extra_data": {"type": "object"},
    },
}

RESULTS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["tests"],  # without a top-level score; with one, tests may be left out
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": {"enum": _FORMATS},
        "test_output_format": {"enum": _FORMATS},
        "test_name_format": {"enum": _FORMATS},
        "visibility": {"enum": _VISIBILITY},
        "stdout_visibility": {"enum": _VISIBILITY},
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": TEST},
        "leaderboard": {"type": "array", "items": {
            "type": "object", "required": ["name", "value"], "additionalProperties": False,
            "properties": {"name": {"type": "string"}, "value": {"type": ["number", "string"]},
                           "order": {"enum": ["asc", "desc"]}}}},
    },
}

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool,
          "number": (int, float), "integer": int}


def errors(value, schema=RESULTS, where="results") -> list[str]:
    """Every way `value` breaks `schema`, as 'where: what' lines; [] when it is valid."""
    found = []
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(isinstance(value, _TYPES[k]) and not (isinstance(value, bool) and k != "boolean") for k in kinds):
            return [f"{where}: {value!r} is not of type {schema['type']}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if "minimum" in schema and value < schema["minimum"]:
        found.append(f"{where}: {value!r} is below {schema['minimum']}")
    if isinstance(value, dict):
        required = list(schema.get("required", []))
        if schema is RESULTS and "score" in value:
            required.remove("tests")
        found += [f"{where}: missing {key!r}" for key in required if key not in value]
        for key, item in value.items():
            if key in schema.get("properties", {}):
                found += errors(item, schema["properties"][key], f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{where}: unknown key {key!r}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += errors(item, schema["items"], f"{where}[{i}]")
    return found
