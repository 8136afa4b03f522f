"""Read template.yaml the way CloudFormation would, for the parts the local stack needs.

A small resolver for the intrinsic functions the template uses (Ref, GetAtt, Sub, If, Equals, Join, Select,
Split) turns properties such as a function's Environment into plain values, given the physical ids of the
resources the local stack created.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = PROJECT_ROOT / "template.yaml"


class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML loader that turns short-form tags (!Ref, !GetAtt, ...) into their long JSON form.

    libyaml's parser when PyYAML has it (same documents, ~10x faster): every local stack reads the template."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


_parsed_templates: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as a new dict each call (callers may change theirs); parsed again only when the file changed:
    every local stack (one per test) reads it."""
    stat = path.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _parsed_templates.get(path)
    if cached is None or cached[0] != version:
        cached = (version, yaml.load(path.read_text(), Loader=_CfnLoader))
        _parsed_templates[path] = cached
    return copy.deepcopy(cached[1])


def configured_kinds(template: dict[str, Any] | None = None) -> str:
    """The LONGHAUL_KINDS every function gets (Globals): the modules of your own task kinds."""
    variables = (template or load_template())["Globals"]["Function"]["Environment"]["Variables"]
    return str(variables.get("LONGHAUL_KINDS") or "")


@dataclass
class Resolver:
    """Resolves intrinsic functions against known physical ids, attributes and parameter values."""

    template: dict[str, Any]
    refs: dict[str, str] = field(default_factory=dict)  # logical id or parameter -> value of Ref
    attrs: dict[str, str] = field(default_factory=dict)  # "LogicalId.Attr" -> value of GetAtt
    region: str = "us-east-1"
    account: str = "123456789012"
    stack_name: str = "longhaul-local"

    def __post_init__(self) -> None:
        for name, spec in self.template.get("Parameters", {}).items():
            default = str(spec.get("Default", ""))
            # A CommaDelimitedList parameter's Ref is a list (what Fn::Join and Fn::Select take).
            self.refs.setdefault(name, default.split(",") if spec.get("Type") == "CommaDelimitedList" else default)  # type: ignore[arg-type]
        self.refs.update(
            {
                "AWS::Region": self.region,
                "AWS::AccountId": self.account,
                "AWS::Partition": "aws",
                "AWS::StackName": self.stack_name,
                "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.stack_name}/"
                "00000000-0000-0000-0000-000000000000",
                "AWS::URLSuffix": "amazonaws.com",
            }
        )

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {k: self.resolve(v) for k, v in value.items()}
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return self._ref(arg)
        if fn == "Fn::GetAtt":
            logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            return self._attr(f"{logical}.{attr}")
        if fn == "Fn::If":
            name, yes, no = arg
            return self.resolve(yes if self.condition(name) else no)
        if fn == "Fn::Equals":
            left, right = self.resolve(arg)
            return str(left) == str(right)
        if fn == "Fn::Not":
            return not self.resolve(arg[0])
        if fn == "Fn::And":
            return all(self.resolve(a) is True for a in arg)
        if fn == "Fn::Or":
            return any(self.resolve(a) is True for a in arg)
        if fn == "Condition":
            return self.condition(arg)
        if fn == "Fn::Join":
            sep, items = arg
            return sep.join(str(i) for i in self.resolve(items))
        if fn == "Fn::Select":
            index, items = self.resolve(arg)
            return items[int(index)]
        if fn == "Fn::Split":
            sep, text = self.resolve(arg)
            return text.split(sep)
        if fn == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
            return re.sub(r"\$\{([^}!]+)\}", lambda m: str(extra.get(m[1]) or self._sub_name(m[1])), text)
        return {fn: self.resolve(arg)}

    def _sub_name(self, name: str) -> str:
        return self._attr(name) if "." in name and name not in self.refs else self._ref(name)

    def _ref(self, name: str) -> str:
        if name not in self.refs:
            raise KeyError(f"Ref {name}: not created in the local stack")
        return self.refs[name]

    def _attr(self, name: str) -> str:
        if name not in self.attrs:
            raise KeyError(f"GetAtt {name}: not known in the local stack")
        return self.attrs[name]


@dataclass(frozen=True)
class FunctionSpec:
    """What the template says about one AWS::Serverless::Function."""

    logical_id: str
    code_dir: Path
    handler: str
    timeout: Any  # may be an intrinsic (e.g. !Ref StepTimeoutSeconds): resolve before use
    memory_size: int
    environment: dict[str, Any]


def function_specs(template: dict[str, Any]) -> dict[str, FunctionSpec]:
    """Every function's code location, handler and (unresolved) environment, with Globals applied."""
    glob = template.get("Globals", {}).get("Function", {})
    specs = {}
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        env = dict(glob.get("Environment", {}).get("Variables", {}))
        env.update(props.get("Environment", {}).get("Variables", {}))
        specs[logical_id] = FunctionSpec(
            logical_id=logical_id,
            code_dir=PROJECT_ROOT / props["CodeUri"],
            handler=props["Handler"],
            timeout=props.get("Timeout", glob.get("Timeout", 3)),
            memory_size=int(props.get("MemorySize", glob.get("MemorySize", 128))),
            environment=env,
        )
    return specs


def substituted_definition(template: dict[str, Any], logical_id: str, resolver: Resolver) -> str:
    """The state machine's ASL with its DefinitionSubstitutions filled in, as Step Functions would receive it."""
    props = template["Resources"][logical_id]["Properties"]
    text = (PROJECT_ROOT / props["DefinitionUri"]).read_text()
    for name, value in props.get("DefinitionSubstitutions", {}).items():
        text = text.replace("${" + name + "}", str(resolver.resolve(value)))
    return text


def checked_definition(template: dict[str, Any], logical_id: str) -> str:
    """The ASL with every substitution filled by the parameter defaults or, for resources, a stand-in name: what
    validators read (the file itself is not JSON where a substitution is a number, as ExecutionTimeoutSeconds)."""
    props = template["Resources"][logical_id]["Properties"]
    resolver = Resolver(template)
    text = (PROJECT_ROOT / props["DefinitionUri"]).read_text()
    for name, value in props.get("DefinitionSubstitutions", {}).items():
        try:
            filled = str(resolver.resolve(value))
        except KeyError:
            filled = f"arn:aws:lambda:us-east-1:123456789012:function:{name}" if name.endswith("Arn") else name
        text = text.replace("${" + name + "}", filled)
    return text


def state_machines(template: dict[str, Any]) -> list[str]:
    return [k for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::StateMachine"]


def main() -> None:
    """``python -m longhaul_dev.template DIR``: write every state machine's checked definition to DIR/<id>.asl.json
    (make validate runs asl-validator on them)."""
    import sys

    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    template = load_template()
    for logical_id in state_machines(template):
        (out / f"{logical_id}.asl.json").write_text(checked_definition(template, logical_id))


if __name__ == "__main__":
    main()
