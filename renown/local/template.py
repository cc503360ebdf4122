"""Read ``template.yaml`` for the local stack: resources to create, functions and their environment.

Local physical names are derived from logical ids, and ``Ref``/``GetAtt`` in environment variables
resolve to them, so that local and cloud read one definition and cannot drift.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

ACCOUNT = "123456789012"
REGION = "us-east-1"
#: pseudo parameters as the local stack resolves them (the local stack is one stack called renown)
PSEUDO = {
    "AWS::StackName": "renown",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
}


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


@dataclass
class FunctionSpec:
    logical_id: str
    handler: str
    timeout: int
    environment: dict[str, str]
    events: dict[str, Any]


@dataclass
class LocalTemplate:
    path: Path
    doc: dict[str, Any]
    endpoint: str = ""
    physical: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> LocalTemplate:
        doc: dict[str, Any] = yaml_parse(path.read_text())
        tpl = cls(path=path, doc=doc)
        for logical_id, res in tpl.resources.items():
            tpl.physical[logical_id] = tpl.local_name(logical_id, res["Type"])
        return tpl

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        resources: dict[str, dict[str, Any]] = self.doc["Resources"]
        return resources

    def of_type(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == type_name}

    @staticmethod
    def local_name(logical_id: str, type_name: str) -> str:
        base = logical_id.removeprefix("Renown") or logical_id
        for suffix in ("Function", "Table", "Queue", "Bucket", "StateMachine"):
            if base.endswith(suffix) and base != suffix:
                base = base[: -len(suffix)]
                break
        name = "renown-" + _kebab(base) if base else "renown"
        if type_name == "AWS::Serverless::Function":
            name += "-fn"
        return name

    # --- reference resolution --------------------------------------------------------------
    def ref(self, logical_id: str) -> str:
        type_name = self.resources[logical_id]["Type"]
        name = self.physical[logical_id]
        if type_name == "AWS::SQS::Queue":
            return f"{self.endpoint}/{ACCOUNT}/{name}"
        if type_name == "AWS::Serverless::StateMachine":
            return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
        return name

    def get_att(self, logical_id: str, attribute: str) -> str:
        type_name = self.resources[logical_id]["Type"]
        name = self.physical[logical_id]
        if attribute == "Arn":
            service = {
                "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
                "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
                "AWS::Serverless::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
                "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            }
            return service[type_name]
        if attribute == "QueueName":
            return name
        raise KeyError(f"{logical_id}.{attribute} has no local value")

    def resolve(self, value: Any) -> str | None:
        """Resolve a scalar property (Ref, GetAtt, Sub without secrets); None when not local."""
        if isinstance(value, str | int | float):
            text = str(value)
            return None if "{{resolve:" in text else text
        if isinstance(value, dict):
            if "Ref" in value:
                ref = value["Ref"]
                if ref in self.resources:
                    return self.ref(ref)
                if ref in PSEUDO:
                    return PSEUDO[ref]
                params = self.doc.get("Parameters", {})
                return str(params.get(ref, {}).get("Default", "")) if ref in params else None
            if "Fn::GetAtt" in value:
                target = value["Fn::GetAtt"]
                logical_id, attribute = target if isinstance(target, list) else target.split(".", 1)
                return self.get_att(logical_id, attribute)
            if "Fn::Sub" in value:
                text = value["Fn::Sub"]
                if "{{resolve:" in text:
                    return None
                return re.sub(r"\$\{([\w:]+)\}", lambda m: self.resolve({"Ref": m.group(1)}) or "", text)
        return None

    # --- functions ---------------------------------------------------------------------------
    def functions(self) -> dict[str, FunctionSpec]:
        globals_fn = self.doc.get("Globals", {}).get("Function", {})
        global_env = globals_fn.get("Environment", {}).get("Variables", {})
        specs: dict[str, FunctionSpec] = {}
        for logical_id, res in self.of_type("AWS::Serverless::Function").items():
            props = res["Properties"]
            env: dict[str, str] = {}
            for key, raw in {**global_env, **props.get("Environment", {}).get("Variables", {})}.items():
                resolved = self.resolve(raw)
                if resolved is not None:
                    env[key] = resolved
            specs[logical_id] = FunctionSpec(
                logical_id=logical_id,
                handler=props["Handler"],
                timeout=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
                environment=env,
                events=props.get("Events", {}),
            )
        return specs

    def stream_filters(self) -> dict[str, list[Any] | None]:
        """The event filter patterns of the stream mappings, by physical table name: a stream record
        some mapping on the table wants matches one of them; ``None`` when a mapping has no filter
        (it wants every record).

        Examples
        --------
        >>> tpl = LocalTemplate.load(Path("template.yaml"))
        >>> tpl.stream_filters()["renown-table"]
        [{'dynamodb': {'Keys': {'PK': {'S': [{'prefix': 'EDGES#'}]}}}}]
        """
        out: dict[str, list[Any] | None] = {}
        for spec in self.functions().values():
            for event in spec.events.values():
                if event.get("Type") != "DynamoDB":
                    continue
                props = event.get("Properties", {})
                table = self.physical[props["Stream"]["Fn::GetAtt"][0]]
                filters = props.get("FilterCriteria", {}).get("Filters", [])
                patterns = [json.loads(f["Pattern"]) for f in filters]
                known = out.get(table, [])
                out[table] = None if known is None or not patterns else known + patterns
        return out

    def state_machine_definition(self, logical_id: str) -> str:
        props = self.resources[logical_id]["Properties"]
        text = (self.path.parent / props["DefinitionUri"]).read_text()
        for key, raw in props.get("DefinitionSubstitutions", {}).items():
            text = text.replace("${" + key + "}", self.resolve(raw) or "")
        json.loads(text)  # a broken definition fails here, before moto sees it
        return text
