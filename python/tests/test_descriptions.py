"""Every component's one description (`llmlab describe all --json`) against the module: each
Python name a component's card lists exists in llmlab.ref / llmlab.cuda, and every described
output has a rule. The card is what the component's documentation page shows, so a renamed or
missing binding fails here instead of leaving the page wrong."""

import json
import os
import pathlib
import subprocess

import pytest

import llmlab

REPO = pathlib.Path(__file__).resolve().parents[2]


def cli() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("LLMLAB_CLI", REPO / "build" / "default" / "apps" / "llmlab"))
    if not path.exists():
        pytest.fail(f"{path} is missing: build the llmlab command line (target llmlab)")
    return path


@pytest.fixture(scope="module")
def descriptions():
    out = subprocess.run([str(cli()), "describe", "all", "--json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def resolve(dotted: str):
    """llmlab.ref.gelu_forward(x) -> y  →  the object llmlab.ref.gelu_forward."""
    name = dotted.split("(")[0].split(" ")[0]
    parts = name.split(".")
    assert parts[0] == "llmlab", f"{dotted}: not a name in llmlab"
    obj = llmlab
    for p in parts[1:]:
        assert hasattr(obj, p), f"{dotted}: llmlab has no {name}"
        obj = getattr(obj, p)
    return obj


def test_every_component_is_described(descriptions):
    names = {d["name"] for d in descriptions}
    assert {"gelu", "layernorm", "matmul", "softmax"} <= names, names


def test_every_python_name_a_card_lists_exists(descriptions):
    for d in descriptions:
        assert d["python"], f"{d['name']}: the card lists no Python names"
        for dotted in d["python"]:
            resolve(dotted)


def test_a_name_that_is_not_bound_is_caught():
    with pytest.raises(AssertionError, match="no llmlab.ref.gelu_sideways"):
        resolve("llmlab.ref.gelu_sideways(x) -> y")


def test_every_output_has_a_rule_and_every_symbol_a_signature(descriptions):
    for d in descriptions:
        assert d["outputs"], f"{d['name']}: no outputs"
        for o in d["outputs"]:
            assert o["rule"].startswith(("f32:", "bf16:")), f"{d['name']}/{o['name']}: {o}"
        for s in d["symbols"]:
            assert s["signature"].startswith(f"int {s['name']}("), s
        assert d["cases"], f"{d['name']}: an empty sweep"
