"""kwok stage configuration: kwok v0.8.0's own stages plus deploysafe's failure simulations.

kwok v0.8 exits without stages, so they are always passed explicitly (``kwok --config``). The
stock files in ``stages/`` are copied unchanged from the kwok v0.8.0 module
(``kustomize/stage/{node/fast,node/heartbeat-with-lease,pod/fast}``); ``deploysafe-failures.yaml``
adds pods that never become Ready or crash-loop. Selectors of a simulated pod (either is enough):

* annotation ``deploysafe.io/simulate: never-ready`` or ``deploysafe.io/simulate: crash-loop``;
* a container image containing ``never-ready`` or ``crash-loop`` (e.g. ``app:never-ready``).

When several stages match a pod, kwok picks one at random, so simulated pods are excluded from the
stock ``pod-ready`` and ``pod-complete`` stages here.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

import yaml

STAGES_DIR = Path(__file__).with_name("stages")
SIMULATE_ANNOTATION = "deploysafe.io/simulate"
SIMULATED_MODES = ("never-ready", "crash-loop")
# Node lifecycle + pod lifecycle, as kwokctl configures them with a node lease.
STOCK_STAGES = ("node-initialize.yaml", "node-heartbeat-with-lease.yaml", "pod-ready.yaml",
                "pod-complete.yaml", "pod-delete.yaml")
FAILURE_STAGES = "deploysafe-failures.yaml"
EXCLUDE_SIMULATED_FROM = ("pod-ready", "pod-complete")


def simulated_key(mode: str) -> str:
    """The kwok selector key (a jq expression) that is true for pods simulated with `mode`."""
    return (f'.metadata.annotations["{SIMULATE_ANNOTATION}"] == "{mode}"'
            f' or any(.spec.containers[]; .image | contains("{mode}"))')


def load_stages() -> List[dict]:
    """All Stage documents, stock ones with simulated pods excluded where kwok would otherwise race."""
    docs: List[dict] = []
    for name in STOCK_STAGES + (FAILURE_STAGES,):
        docs += [d for d in yaml.safe_load_all((STAGES_DIR / name).read_text()) if d]
    for doc in docs:
        if doc["metadata"]["name"] in EXCLUDE_SIMULATED_FROM:
            exprs = doc["spec"]["selector"]["matchExpressions"]
            exprs += [{"key": simulated_key(m), "operator": "NotIn", "values": ["true"]} for m in SIMULATED_MODES]
    return docs


class _BlockDumper(yaml.SafeDumper):
    """Keeps the Go templates readable (literal blocks) in the generated file."""


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _str)


def write_kwok_config(path: Path) -> Path:
    """Write the multi-document kwok --config file and return its path."""
    path.write_text(yaml.dump_all(load_stages(), Dumper=_BlockDumper, sort_keys=False, width=1000))
    return path
