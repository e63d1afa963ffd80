"""Static shapes for every tensor, folding known values on the way; all unsupported ops at once."""

from __future__ import annotations

from ariel_build.errors import UnsupportedOpsError
from ariel_build.ir import Graph, Tensor
from ariel_build.ops.base import OpUnsupported, lookup
from ariel_build.passes.fold_constants import try_fold


def infer_shapes(graph: Graph) -> Graph:
    problems: list[tuple[str, str, str]] = []
    unresolved: set[str] = set()
    kept = []
    for node in graph.nodes:
        n_problems = len(problems)
        op = lookup(node.op)
        if "__unsupported__" in node.attrs:
            problems.append((node.op, node.name, node.attrs["__unsupported__"]))
        elif any(i in unresolved for i in node.inputs if i):
            if op is None:
                problems.append((node.op, node.name, "no implementation"))
        elif any(i and i not in graph.tensors for i in node.inputs):
            missing = [i for i in node.inputs if i and i not in graph.tensors]
            problems.append((node.op, node.name, f"reads undefined tensor(s) {missing}"))
        elif try_fold(node, graph):
            continue
        elif op is None:
            why = "custom-domain op" if "." in node.op else "no implementation"
            problems.append((node.op, node.name, why))
        elif op.build_time_only:
            problems.append((node.op, node.name, "supported only when its inputs are constants"))
        else:
            try:
                op.check(node, graph)
                results = op.infer(node, graph)
            except OpUnsupported as e:
                problems.append((node.op, node.name, str(e)))
            else:
                for name, (shape, dtype) in zip(node.outputs, results, strict=False):
                    if name:
                        # A frontend may declare an output's quantization before its shape is known.
                        quant = graph.tensors[name].quant if name in graph.tensors else None
                        graph.add_tensor(Tensor(name, tuple(int(d) for d in shape), dtype, quant=quant))
                kept.append(node)
                continue
        if len(problems) > n_problems and node.name in graph.source_ops:
            op_type, name, why = problems[-1]
            problems[-1] = (
                graph.source_ops[node.name],
                name,
                f"{why} ({op_type})" if op_type != why else why,
            )
        unresolved.update(o for o in node.outputs if o)
        kept.append(node)
    if problems:
        raise UnsupportedOpsError(graph.source, problems)
    graph.nodes = kept
    missing = [o for o in graph.outputs if o not in graph.tensors]
    if missing:
        raise UnsupportedOpsError(graph.source, [("(graph)", o, "output is never produced") for o in missing])
    graph.remove_unused_tensors()
    return graph
