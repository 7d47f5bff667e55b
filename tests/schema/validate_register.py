"""Validates a register directory against the committed JSON Schemas with an independent
validator (Python `jsonschema`, Draft 2020-12), then checks the validator rejects broken copies
so that a schema which accepts everything cannot pass.

Usage: python validate_register.py SCHEMAS_DIR REGISTER_DIR
Prints one line per check and ends with `N passed, N failed`; exits 1 on any failure.
"""

import copy
import json
import pathlib
import sys

import jsonschema
import yaml

# Register section (file stem) -> (schema name, whether the file holds a list of items).
SECTIONS = {
    "ai_policy": ("ai_policy", False),
    "risk_criteria": ("risk_criteria", False),
    "systems": ("ai_system", True),
    "soa": ("soa_entry", True),
    "risks": ("risk", True),
    "impact_assessments": ("impact_assessment", True),
    "oversight": ("oversight_checkpoint", True),
    "incidents": ("incident", True),
    "nonconformities": ("nonconformity", True),
    "corrective_actions": ("corrective_action", True),
    "internal_audits": ("internal_audit", True),
    "management_reviews": ("management_review", True),
    "evidence": ("evidence", True),
}


class StringTimestampLoader(yaml.SafeLoader):
    """PyYAML turns unquoted timestamps and dates into datetime objects; the register keeps
    them as RFC 3339 / ISO 8601 strings, as the Rust loader does."""


StringTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(path):
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return yaml.load(text, Loader=StringTimestampLoader)


def validator(schemas_dir, name):
    schema = json.loads((schemas_dir / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def main():
    schemas_dir = pathlib.Path(sys.argv[1])
    register_dir = pathlib.Path(sys.argv[2])
    passed, failed = 0, 0

    def check(label, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok   {label}")
        else:
            failed += 1
            print(f"FAIL {label}: {detail}")

    register = {}
    for path in sorted(register_dir.iterdir()):
        if path.suffix not in (".yaml", ".yml", ".json"):
            continue
        section = path.stem
        check(f"{path.name} is a known section", section in SECTIONS, section)
        if section not in SECTIONS:
            continue
        schema_name, is_list = SECTIONS[section]
        data = load(path)
        register[section] = data
        item_validator = validator(schemas_dir, schema_name)
        items = data if is_list else [data]
        check(f"{path.name} holds a {'list' if is_list else 'single object'}",
              isinstance(data, list) == is_list)
        for index, item in enumerate(items):
            errors = sorted(item_validator.iter_errors(item), key=str)
            check(f"{path.name}[{index}] valid against {schema_name}.schema.json",
                  not errors, "; ".join(e.message for e in errors[:3]))

    register_validator = validator(schemas_dir, "register")
    errors = list(register_validator.iter_errors(register))
    check("whole register valid against register.schema.json", not errors,
          "; ".join(e.message for e in errors[:3]))
    check("register has every section", set(register) == set(SECTIONS),
          sorted(set(SECTIONS) - set(register)))

    # The validator must reject broken copies: each mutation names what the schema forbids.
    def rejects(label, mutate):
        broken = copy.deepcopy(register)
        mutate(broken)
        check(f"rejects {label}", not register_validator.is_valid(broken))

    rejects("an unknown field in a risk", lambda r: r["risks"][0].update(unexpected=1))
    rejects("an unknown on_timeout", lambda r: r["oversight"][0].update(on_timeout="ignore"))
    rejects("zero required approvals", lambda r: r["oversight"][0].update(required_approvals=0))
    rejects("a missing justification", lambda r: r["soa"][0].pop("justification"))
    rejects("a string risk rating", lambda r: r["risks"][0]["inherent"].update(likelihood="high"))
    rejects("a short sha256", lambda r: r["evidence"][0].update(sha256="abc"))
    rejects("an unknown serious_kind",
            lambda r: r["incidents"][0].update(serious_kind="catastrophic"))
    rejects("an unknown section", lambda r: r.update(extra_section=[]))

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
