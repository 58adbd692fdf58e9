#!/usr/bin/env python3
"""Validates a Compose file against the Compose specification's JSON schema (compose-go's
schema/compose-spec.json, the one Docker Compose itself uses) and checks that every file it
mounts exists. Usage: check_compose.py SCHEMA COMPOSE_FILE"""

import json
import os
import sys

import jsonschema
import yaml


def main():
    schema_path, compose_path = sys.argv[1], sys.argv[2]
    schema = json.load(open(schema_path))
    document = yaml.safe_load(open(compose_path))
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=str)
    for error in errors:
        print(f"{compose_path}: {'/'.join(map(str, error.path))}: {error.message}")
    missing = []
    base = os.path.dirname(os.path.abspath(compose_path))
    for name, service in document.get("services", {}).items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith("."):
                if not os.path.exists(os.path.join(base, source)):
                    missing.append(f"{name}: {source}")
    for item in missing:
        print(f"{compose_path}: mounted file missing: {item}")
    if errors or missing:
        sys.exit(1)
    print(f"{compose_path}: {len(document['services'])} services, valid against the Compose spec")


if __name__ == "__main__":
    main()
