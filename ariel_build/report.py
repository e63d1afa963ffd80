"""Per-op rows and totals for `inspect`, `run` and report.json."""

from __future__ import annotations

from typing import Any

from ariel_build.ops.base import lookup
from ariel_build.pipeline import CompiledModel


def op_rows(model: CompiledModel) -> list[dict[str, Any]]:
    g, plan = model.graph, model.plan
    rows = []
    for node in g.nodes:
        op = lookup(node.op)
        params = sum(g.tensor(i).size for i in node.inputs if i and g.tensor(i).is_constant)
        rows.append(
            {
                "name": node.name,
                "op": node.op + (f"+{node.activation.kind}" if node.activation else ""),
                "inputs": [list(g.tensor(i).shape) for i in node.inputs if i],
                "outputs": [list(g.tensor(o).shape) for o in node.outputs if o],
                "macs": op.macs(node, g) if op else 0,
                "params": params,
                "output_locations": [
                    {
                        "kind": plan.locations[o].kind,
                        "offset": plan.locations[o].offset,
                        "bytes": plan.locations[o].nbytes,
                    }
                    for o in node.outputs
                    if o
                ],
                "inplace": node.name in plan.inplace_nodes,
            }
        )
    return rows


def summary(model: CompiledModel) -> dict[str, Any]:
    rows = op_rows(model)
    return {
        "model": model.graph.source,
        "arena_bytes": model.plan.arena_bytes,
        "weight_bytes": model.plan.weight_bytes,
        "macs": sum(r["macs"] for r in rows),
        "ops": rows,
    }


def add_board_measurements(report: dict[str, Any], measured: dict[str, Any]) -> None:
    """Adds what a run on a board measured: instructions per core and per op, flash/RAM of the ELF
    and the stack high-water mark (`memory.stack_bytes`, `memory.stack_bytes_per_core`)."""
    for row, instructions in zip(report["ops"], measured["op_instructions"], strict=True):
        row["instructions"] = instructions
    for row, per_core in zip(report["ops"], measured.get("op_instructions_per_core", []), strict=False):
        row["instructions_per_core"] = per_core
    memory = measured["memory"]
    report.update({k: v for k, v in measured.items() if k.startswith(("per_core", "per_vcpu", "critical"))})
    report.update(flash_bytes=memory["flash_bytes"], memory=memory)
