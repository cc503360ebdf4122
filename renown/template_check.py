"""Check ``template.yaml`` the way that catches real mistakes (see the README's "Checks").

1. Expand the SAM transform offline with aws-sam-translator (local ``CodeUri``/``ContentUri``
   become ``s3://`` placeholders, ``DefinitionUri`` is inlined, the managed-policy loader is a stub).
2. Run cfn-lint on the expanded CloudFormation (cfn-lint no longer lints SAM output itself).
3. Run ``sam validate --lint`` on the original template.
4. Security scan: checkov's CloudFormation checks on the expanded template. Every finding is fixed or
   skipped in the template with a reason (``Metadata: checkov: ["checkov:skip=ID:reason"]``, which
   the SAM transform carries over to the function it makes); :data:`OWNER_PENDING` lists the few findings on
   blocks whose owner has yet to add that justification, printed on every run.

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
    # the state machine's definition becomes one deeply nested Fn::Join: cfn-lint's validator recurses
    # past Python's default limit on it (E1022 "maximum recursion depth exceeded")
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    # W3005 (redundant DependsOn) is written by the SAM transform itself, not by us.
    matches = lint(text, config=ManualArgs(regions=["us-east-1"], ignore_checks=["W3005"]))
    return [f"{m.rule.id} {m.message} ({'/'.join(str(p) for p in m.path)})" for m in matches]


#: Findings on template blocks edited by another owner, justified here until the block carries its own
#: ``Metadata: checkov: skip`` (resource name in the expanded template, check id) -> reason.
OWNER_PENDING: dict[tuple[str, str], str] = {
    ("RescoreTaskFunction", "CKV_AWS_116"): "invoked synchronously by Step Functions; the state machine's "
    "Catch ends the run as Failed (no asynchronous invocation to dead-letter)",
    (
        "RescoreTaskFunction",
        "CKV_AWS_173",
    ): "environment encrypted with Lambda's AWS managed key; no secrets in it",
    ("RescoreStateMachineRole", "CKV_AWS_111"): "states:StartExecution/DescribeExecution/StopExecution on "
    "'*' for the distributed map's child executions; to be scoped to the state machine's execution ARNs",
}


def carry_api_justifications(template: dict[str, Any], expanded: dict[str, Any]) -> dict[str, Any]:
    """Copy each ``AWS::Serverless::Api``'s ``Metadata: checkov`` onto the stage the transform makes for it
    (the template has no place for the generated stage's metadata)."""
    out = copy.deepcopy(expanded)
    for api_id, api in template.get("Resources", {}).items():
        skips = api.get("Metadata", {}).get("checkov") if api.get("Type") == "AWS::Serverless::Api" else None
        if not skips:
            continue
        for resource in out["Resources"].values():
            if resource["Type"] == "AWS::ApiGateway::Stage" and resource["Properties"].get("RestApiId") == {
                "Ref": api_id
            }:
                resource.setdefault("Metadata", {})["checkov"] = skips
    return out


def security_findings(expanded: dict[str, Any]) -> tuple[list[str], list[str], int]:
    """checkov on the expanded template: (unjustified findings, pending-owner notes, skipped count)."""
    checkov = Path(sys.executable).with_name("checkov")
    with tempfile.TemporaryDirectory(prefix="renown-checkov-") as tmp:
        target = Path(tmp) / "expanded.json"
        # one value a line: checkov finds "checkov:skip=ID:reason" strings on the resource's lines
        target.write_text(json.dumps(expanded, indent=1))
        proc = subprocess.run(
            [
                *(str(checkov), "-f", str(target), "--framework", "cloudformation", "--quiet", "--compact"),
                *("--skip-fixes", "--skip-policy-download", "--no-guide", "-o", "json"),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
            check=False,
        )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return [f"checkov did not run: {(proc.stderr or proc.stdout).strip()[-500:]}"], [], 0
    results = report.get("results", {}) if isinstance(report, dict) else {}
    failures, pending = [], []
    for check in results.get("failed_checks", []):
        resource = check["resource"].split(".", 1)[-1]
        reason = OWNER_PENDING.get((resource, check["check_id"]))
        line = f"{check['check_id']} {check['resource']}: {check['check_name']}"
        if reason:
            pending.append(f"{line} (justified pending the owner's Metadata: {reason})")
        else:
            failures.append(line)
    return failures, pending, int(report.get("summary", {}).get("skipped", 0))


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
    insecure, pending, skipped = security_findings(carry_api_justifications(template, expanded))
    for finding in insecure:
        print(f"checkov: {finding}")
    for note in pending:
        print(f"checkov (pending): {note}")
    print(f"checkov: {len(insecure)} unjustified, {skipped} skipped with a reason in the template")
    code, output = sam_validate(path)
    print(f"sam validate --lint: exit {code}: {output.splitlines()[-1] if output else ''}")
    if code != 0:
        print(output)
    return 1 if findings or insecure or code != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
