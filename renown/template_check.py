"""Check ``template.yaml`` the way that catches real mistakes (see the README's "Checks").

1. Expand the SAM transform offline with aws-sam-translator (local ``CodeUri``/``ContentUri``
   become ``s3://`` placeholders, ``DefinitionUri`` is inlined, the managed-policy loader is a stub).
2. Run cfn-lint on the expanded CloudFormation (cfn-lint no longer lints SAM output itself).
3. Run ``sam validate --lint`` on the original template.

Usage: ``python -m renown.template_check template.yaml`` (``make template``); exit code 1 on errors.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from cfnlint.api import ManualArgs, lint
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

PLACEHOLDER_BUCKET = "renown-template-check"


class _NoManagedPolicies:
    """Stands in for the IAM call that maps managed-policy names to ARNs (offline)."""

    def load(self) -> dict[str, str]:
        return {}


def load_template(path: Path) -> dict[str, Any]:
    """Parse a SAM template, intrinsic-function tags included."""
    parsed: dict[str, Any] = yaml_parse(path.read_text())
    return parsed


def prepare_offline(template: dict[str, Any], base: Path) -> dict[str, Any]:
    """Replace local artefact paths with placeholders and inline state machine definitions."""
    prepared = copy.deepcopy(template)
    for name, resource in prepared.get("Resources", {}).items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            value = props.get(key)
            if isinstance(value, str) and not value.startswith("s3://"):
                props[key] = f"s3://{PLACEHOLDER_BUCKET}/{name}.zip"
        definition_uri = props.get("DefinitionUri")
        if isinstance(definition_uri, str) and not definition_uri.startswith("s3://"):
            props["Definition"] = json.loads((base / definition_uri).read_text())
            del props["DefinitionUri"]
    return prepared


def expand(template: dict[str, Any]) -> dict[str, Any]:
    """Run the SAM transform offline; returns plain CloudFormation."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(template, {}, _NoManagedPolicies())  # type: ignore[arg-type]


def lint_expanded(expanded: dict[str, Any]) -> list[str]:
    """cfn-lint findings (errors and warnings) on expanded CloudFormation."""
    text = json.dumps(expanded)
    # W3005 (redundant DependsOn) is written by the SAM transform itself, not by us.
    matches = lint(text, config=ManualArgs(regions=["us-east-1"], ignore_checks=["W3005"]))
    return [f"{m.rule.id} {m.message} ({'/'.join(str(p) for p in m.path)})" for m in matches]


def sam_validate(path: Path) -> tuple[int, str]:
    """``sam validate --lint`` from the same virtual environment."""
    sam = Path(sys.executable).with_name("sam")
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    env.setdefault("SAM_CLI_TELEMETRY", "0")
    proc = subprocess.run(
        [str(sam), "validate", "--lint", "--template-file", str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    path = Path(args[0] if args else "template.yaml").resolve()
    template = load_template(path)
    expanded = expand(prepare_offline(template, path.parent))
    findings = lint_expanded(expanded)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, prefix="renown-expanded-") as out:
        json.dump(expanded, out, indent=1)
    print(f"SAM transform: {len(expanded.get('Resources', {}))} CloudFormation resources ({out.name})")
    for finding in findings:
        print(f"cfn-lint: {finding}")
    code, output = sam_validate(path)
    print(f"sam validate --lint: exit {code}: {output.splitlines()[-1] if output else ''}")
    if code != 0:
        print(output)
    return 1 if findings or code != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
