"""Graph → graph transformations, one per file, run in this order."""

from __future__ import annotations

from collections.abc import Callable

from ariel_build.ir import Graph
from ariel_build.passes.choose_layout import choose_layout
from ariel_build.passes.copy_to_view import copy_to_view
from ariel_build.passes.eliminate_dead import eliminate_dead
from ariel_build.passes.eliminate_identity import eliminate_identity
from ariel_build.passes.expand_qlinear import expand_qlinear
from ariel_build.passes.fold_batchnorm import fold_batchnorm
from ariel_build.passes.fold_constants import fold_constants
from ariel_build.passes.fuse_activation import fuse_activation
from ariel_build.passes.fuse_gelu import fuse_gelu
from ariel_build.passes.fuse_qdq import fuse_qdq
from ariel_build.passes.pack_int8_weights import pack_int8_weights
from ariel_build.passes.unique_node_names import unique_node_names

PIPELINE: list[tuple[str, Callable[[Graph], Graph]]] = [
    ("expand_qlinear", expand_qlinear),
    ("fuse_qdq", fuse_qdq),
    ("eliminate_identity", eliminate_identity),
    ("fold_constants", fold_constants),
    ("fuse_gelu", fuse_gelu),
    ("copy_to_view", copy_to_view),
    ("fold_batchnorm", fold_batchnorm),
    ("fuse_activation", fuse_activation),
    ("eliminate_dead", eliminate_dead),
    ("choose_layout", choose_layout),
    ("pack_int8_weights", pack_int8_weights),
    ("unique_node_names", unique_node_names),
]


def optimize(graph: Graph) -> Graph:
    for _, run in PIPELINE:
        graph = run(graph)
    return graph
