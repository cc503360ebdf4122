"""What the template promises beyond linting: least privilege, failures, logs, schedules, security scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from renown.template_check import (
    OWNER_PENDING,
    carry_api_justifications,
    expand,
    load_template,
    prepare_offline,
    security_findings,
)

ROOT = Path(__file__).resolve().parents[2]

#: SAM policy templates each function may have (by template name); anything else is a finding
ALLOWED_POLICIES = {
    "ApiFunction": {"DynamoDBCrudPolicy", "Statement"},  # Statement: customers' keys in API Gateway
    "WebhookReceiverFunction": {"SQSSendMessagePolicy", "Statement"},
    "IngestProcessorFunction": {"DynamoDBCrudPolicy"},
    "ScoreUpdaterFunction": {"DynamoDBCrudPolicy", "DynamoDBStreamReadPolicy"},
    "PullSourcesFunction": {"DynamoDBCrudPolicy"},
    "BackfillFunction": {"DynamoDBCrudPolicy", "S3ReadPolicy"},
    "RescoreTaskFunction": {"DynamoDBCrudPolicy", "S3CrudPolicy"},
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def expanded(template: dict[str, Any]) -> dict[str, Any]:
    return expand(prepare_offline(template, ROOT))


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def test_every_function_has_only_the_policy_templates_it_needs(template: dict[str, Any]) -> None:
    for name, function in _functions(template).items():
        policies = function["Properties"].get("Policies", [])
        assert all(isinstance(p, dict) for p in policies), f"{name}: no managed policy names"
        names = {next(iter(p)) for p in policies}
        assert names <= ALLOWED_POLICIES[name], f"{name}: {names - ALLOWED_POLICIES[name]}"


def test_the_api_manages_only_keys_and_usage_plans(template: dict[str, Any]) -> None:
    policies = template["Resources"]["ApiFunction"]["Properties"]["Policies"]
    statements = [st for p in policies if "Statement" in p for st in p["Statement"]]
    assert statements, "the admin API needs API Gateway key management"
    for statement in statements:
        assert set(statement["Action"]) <= {"apigateway:GET", "apigateway:POST", "apigateway:PATCH"}
        for resource in statement["Resource"]:
            assert resource["Fn::Sub"].rsplit("::", 1)[1].startswith(("/apikeys", "/usageplans")), resource


def test_no_function_role_grants_wildcard_actions(expanded: dict[str, Any]) -> None:
    for name, resource in expanded["Resources"].items():
        if resource["Type"] != "AWS::IAM::Role" or not name.endswith("FunctionRole"):
            continue
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                assert not any(a == "*" or a.endswith(":*") for a in actions), (name, actions)


def test_every_function_has_a_log_group_with_retention(template: dict[str, Any]) -> None:
    groups = {
        json.dumps(v["Properties"]["LogGroupName"]): v["Properties"].get("RetentionInDays")
        for v in template["Resources"].values()
        if v["Type"] == "AWS::Logs::LogGroup"
    }
    for name in _functions(template):
        key = json.dumps({"Fn::Sub": f"/aws/lambda/${{{name}}}"})
        assert groups.get(key), f"{name} has no log group with a retention"


def test_powertools_environment_and_one_runtime(template: dict[str, Any]) -> None:
    globals_fn = template["Globals"]["Function"]
    env = globals_fn["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] and env["POWERTOOLS_METRICS_NAMESPACE"]
    assert globals_fn["Runtime"] == "python3.12" and globals_fn["Architectures"] == ["x86_64"]


def test_pull_sources_run_on_schedules_for_both_sources(template: dict[str, Any]) -> None:
    pull = template["Resources"]["PullSourcesFunction"]["Properties"]
    assert pull["Handler"] == "functions.ingest.pull.handler"
    inputs = {
        json.loads(e["Properties"]["Input"])["source"]
        for e in pull["Events"].values()
        if e["Type"] == "Schedule"
    }
    assert inputs == {"wikipedia", "bluesky"}
    assert "DeadLetterQueue" in pull, "scheduled (asynchronous) failures are kept"


def test_failures_have_a_queue_and_every_queue_an_alarm(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    stream = resources["ScoreUpdaterFunction"]["Properties"]["Events"]["Stream"]["Properties"]
    assert stream["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    alarmed = {
        v["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for v in resources.values()
        if v["Type"] == "AWS::CloudWatch::Alarm" and v["Properties"].get("Namespace") == "AWS/SQS"
    }
    dead = {"IngestDeadLetterQueue", "FailureQueue", "RescoreTriggerDeadLetterQueue"}
    assert dead <= alarmed


def test_rescore_triggers_retry_then_keep_failed_events(expanded: dict[str, Any]) -> None:
    """Every EventBridge target of the state machine (release, daily settle) retries, then sends what it
    could not deliver to an encrypted queue whose policy lets exactly those rules write to it."""
    resources = expanded["Resources"]
    rules = {
        name: r
        for name, r in resources.items()
        if r["Type"] == "AWS::Events::Rule"
        and any(t["Arn"] == {"Ref": "RescoreStateMachine"} for t in r["Properties"]["Targets"])
    }
    assert set(rules) == {"RescoreStateMachineAlgorithmReleased", "RescoreStateMachineDailySettle"}
    queues: set[str] = set()
    for name, rule in rules.items():
        for target in rule["Properties"]["Targets"]:
            assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1, name
            assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] >= 60, name
            queues.add(target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0])
    (queue,) = queues
    props = resources[queue]["Properties"]
    assert props.get("SqsManagedSseEnabled") or props.get("KmsMasterKeyId"), "the DLQ is encrypted"
    policies = [
        r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::SQS::QueuePolicy" and {"Ref": queue} in r["Properties"]["Queues"]
    ]
    (statement,) = [s for p in policies for s in p["PolicyDocument"]["Statement"]]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    sources = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert sorted(s["Fn::GetAtt"][0] for s in sources) == sorted(rules)


def test_rest_api_keys_usage_plan_cors_and_gateway_responses(template: dict[str, Any]) -> None:
    api = template["Resources"]["RenownApi"]["Properties"]
    assert api["Auth"]["ApiKeyRequired"] is True
    assert api["Auth"]["AddApiKeyRequiredToCorsPreflight"] is False
    # a browser may call opt-out, connect and +K from another origin: the preflight allows the token
    assert "x-renown-owner-token" in api["Cors"]["AllowHeaders"].lower()
    assert api["Auth"]["UsagePlan"]["CreateUsagePlan"] == "PER_API"
    assert api["MethodSettings"][0]["ThrottlingRateLimit"] > 0
    for name in ("DEFAULT_4XX", "DEFAULT_5XX", "QUOTA_EXCEEDED", "INVALID_API_KEY"):
        headers = api["GatewayResponses"][name]["ResponseParameters"]["Headers"]
        assert "Access-Control-Allow-Origin" in headers, name
    # the SVG badge is text (Mangum's text_mime_types); listing it as binary would base64 it
    assert "image/svg+xml" not in api.get("BinaryMediaTypes", [])
    from functions.api.handler import TEXT_MIME_TYPES

    assert "image/svg+xml" in TEXT_MIME_TYPES


def test_api_justifications_reach_the_generated_stage(
    template: dict[str, Any], expanded: dict[str, Any]
) -> None:
    carried = carry_api_justifications(template, expanded)
    stages = [r for r in carried["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert stages and all("checkov" in s.get("Metadata", {}) for s in stages)


@pytest.mark.slow
def test_security_scan_has_no_unjustified_finding(template: dict[str, Any], expanded: dict[str, Any]) -> None:
    insecure, pending, skipped = security_findings(carry_api_justifications(template, expanded))
    assert insecure == []
    assert skipped > 0
    assert len(pending) <= len(OWNER_PENDING)


def test_the_local_dev_key_is_off_in_a_deployment(template: dict[str, Any]) -> None:
    env = template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert env["RENOWN_DEV_API_KEY"] == ""
