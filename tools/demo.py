"""Demo data for the local stack and tests: sample applications that satisfy an item's form."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

# Values for the string patterns the pilot catalog's form schemas use.
_PATTERN_SAMPLES = {
    r"^(0|[1-9][0-9]{0,14})(\.[0-9]{1,2})?$": "100.00",
    r"^[0-9]{4}-(0[1-9]|1[0-2])$": "2026-10",
    r"^[A-HJ-NPR-Z0-9]{17}$": "LSVAU033512345678",
}


def sample_value(schema: dict[str, Any], title: str = "示例") -> Any:
    """A value satisfying a (simple) JSON Schema: what a demo applicant would type."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("default", "examples"):
        if key in schema:
            value = schema[key]
            return value[0] if key == "examples" else value
    kind = schema.get("type", "string")
    if kind == "object":
        return sample_form(schema)
    if kind == "array":
        return [sample_value(schema.get("items", {}), title)
                for _ in range(max(1, int(schema.get("minItems", 1))))]
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return True
    pattern = schema.get("pattern")
    if pattern:
        if pattern not in _PATTERN_SAMPLES:
            raise ValueError(f"no sample for pattern {pattern}")
        return _PATTERN_SAMPLES[pattern]
    text = f"{schema.get('title', title)}（示例）"
    low, high = int(schema.get("minLength", 1)), int(schema.get("maxLength", 200))
    return (text * 2)[:high] if len(text) >= low else text.ljust(low, "示")


def sample_form(schema: dict[str, Any]) -> dict[str, Any]:
    """A form with every required field of ``schema`` filled in."""
    properties = schema.get("properties", {})
    return {name: sample_value(properties.get(name, {}), properties.get(name, {}).get("title",
                                                                                     name))
            for name in schema.get("required", [])}


def sample_material(directory: Path, code: str) -> Path:
    """A small PDF standing in for a scanned material."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{code}.pdf"
    if not path.exists():
        body = b"%PDF-1.4\n% onestop demo material " + code.encode() + b"\n%%EOF\n"
        path.write_bytes(body)
    return path


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
