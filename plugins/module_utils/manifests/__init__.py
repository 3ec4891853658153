# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes manifest validation: load multi-document YAML (files, directories, rendered Helm or
Kustomize output) keeping the line of every JSON pointer, then run offline schema and policy checks
(checks.py, consistency.py) and, with a Kubernetes connection, a server-side dry-run (dry_run.py)."""

from __future__ import annotations

import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check, Finding, Location, make_finding
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.model import (
    Document, ManifestError, escape_pointer,
)

PARSE_ERROR = Check("manifest.parse-error", "high", "Manifest cannot be parsed",
                    "Fix the YAML: no tabs for indentation, no duplicate keys, closed quotes, UTF-8 encoding.")
UNREADABLE = Check("manifest.unreadable", "high", "Manifest file could not be read or was skipped",
                   "Make the file readable and smaller than the size limit, or exclude it explicitly.")
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def _walk_nodes(node, pointer: str, lines: Dict[str, int], duplicates: List[Tuple[str, int, int]]) -> None:
    import yaml
    lines.setdefault(pointer, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            if key == "<<":
                continue
            if key in seen:
                duplicates.append((f"{pointer}/{escape_pointer(key)}", key_node.start_mark.line + 1,
                                   key_node.start_mark.column + 1))
            seen.add(key)
            lines.setdefault(f"{pointer}/{escape_pointer(key)}", key_node.start_mark.line + 1)
            _walk_nodes(value_node, f"{pointer}/{escape_pointer(key)}", lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk_nodes(item, f"{pointer}/{index}", lines, duplicates)


def parse_stream(text: str, file: str) -> Tuple[List[Document], List[Finding]]:
    """Documents of a YAML (or JSON) stream; parse problems become findings with file:line:column.

    A syntax error stops that file (YAML cannot resynchronise) but documents before it are kept.
    `kind: List` objects are expanded into their items.
    """
    import yaml
    loader_cls = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    constructor = yaml.SafeLoader("")
    docs: List[Document] = []
    findings: List[Finding] = []
    index = 0
    try:
        for node in yaml.compose_all(text, Loader=loader_cls):
            if node is None:
                continue
            lines: Dict[str, int] = {}
            duplicates: List[Tuple[str, int, int]] = []
            _walk_nodes(node, "", lines, duplicates)
            for pointer, line, column in duplicates:
                findings.append(make_finding(PARSE_ERROR, f"{file}:{line}:{column}: duplicate key {pointer} "
                                             f"(the later value silently wins)", Location(file, line, column, pointer)))
            obj = constructor.construct_document(node)
            if obj is None:
                continue
            if isinstance(obj, dict) and obj.get("kind") == "List" and isinstance(obj.get("items"), list):
                for i, item in enumerate(obj["items"]):
                    prefix = f"/items/{i}"
                    sub = {p[len(prefix):]: ln for p, ln in lines.items() if p == prefix or p.startswith(prefix + "/")}
                    docs.append(Document(file, index, item, sub))
                    index += 1
            else:
                docs.append(Document(file, index, obj, lines))
                index += 1
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
            problem += " (a tab: YAML indentation takes spaces only)"
        context = getattr(exc, "context", None)
        context_mark = getattr(exc, "context_mark", None)
        if context and context_mark and context_mark is not mark:
            context += f" that starts at line {context_mark.line + 1}, column {context_mark.column + 1}"
        where = f"{file}:{line}:{column}" if line else file
        findings.append(make_finding(PARSE_ERROR, f"{where}: {problem}" + (f" ({context})" if context else ""),
                                     Location(file, line, column)))
    except (ValueError, TypeError, RecursionError) as exc:  # constructor problems, e.g. unhashable keys
        findings.append(make_finding(PARSE_ERROR, f"{file}: {exc}", Location(file)))
    return docs, findings


def decode(data: bytes, file: str) -> Tuple[Optional[str], List[Finding]]:
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, [make_finding(PARSE_ERROR, f"{file}:{line}:{column}: not UTF-8 (byte 0x{data[exc.start]:02x})",
                                   Location(file, line, column))]


def manifest_files(paths: Iterable[str]) -> Tuple[List[str], List[Finding]]:
    """Expand directories into their .yaml/.yml/.json files (sorted, symlinks not followed)."""
    from ansible_collections.deploysafe.preflight.plugins.module_utils.secrets import ScanStats, walk_files
    files: List[str] = []
    findings: List[Finding] = []
    for path in paths:
        if os.path.isdir(path):
            stats = ScanStats()
            files.extend(os.path.join(path, rel) for rel in sorted(walk_files(path, frozenset({".git"}), stats))
                         if rel.endswith(MANIFEST_SUFFIXES))
            findings.extend(make_finding(UNREADABLE, f"{path}/{note}", Location(file=path)) for note in stats.notes)
        elif os.path.exists(path):
            files.append(path)
        else:
            raise ManifestError(f"{path}: no such file or directory")
    return files, findings


def load_manifests(paths: Iterable[str] = (), content: Optional[str] = None, content_name: str = "<stdin>",
                   max_file_bytes: int = 20 * 1024 * 1024) -> Tuple[List[Document], List[Finding], int]:
    """All documents from files, directories and inline content. Returns (docs, findings, files read)."""
    files, findings = manifest_files(paths)
    docs: List[Document] = []
    read = 0
    for path in files:
        try:
            size = os.path.getsize(path)
            if size > max_file_bytes:
                findings.append(make_finding(UNREADABLE, f"{path}: {size} bytes is over the {max_file_bytes} byte "
                                             f"limit; not validated", Location(file=path)))
                continue
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            findings.append(make_finding(UNREADABLE, f"{path}: {exc.strerror or exc}", Location(file=path)))
            continue
        read += 1
        text, problems = decode(data, path)
        findings.extend(problems)
        if text is not None:
            more, problems = parse_stream(text, path)
            docs.extend(more)
            findings.extend(problems)
    if content:
        read += 1
        more, problems = parse_stream(content, content_name)
        docs.extend(more)
        findings.extend(problems)
    return docs, findings, read


def validate_manifests(paths: Iterable[str] = (), content: Optional[str] = None, *, crd_schema_files: Iterable[str] = (),
                       connection: Optional[Mapping[str, Any]] = None,
                       required_labels: Optional[Iterable[str]] = None, default_namespace: str = "",
                       max_file_bytes: int = 20 * 1024 * 1024,
                       kubernetes_version: str = "") -> Tuple[List[Finding], int, int]:
    """Run every manifest check. Returns (findings, documents, files read).

    `kubernetes_version` is the target release (default k8s_schema.DEFAULT_VERSION): it picks the bundled
    schema (k8s_schema.schema_for) and decides which apiVersions are removed or deprecated (api_versions.py).

    With `connection` (the k8s_auth options, as in k8s/connection.py; `{}` means K8S_AUTH_* variables,
    in-cluster or default kubeconfig auth), the objects are also dry-run on the API server; without it the
    scan is offline. Whether to dry-run is the caller's choice (dry_run.dry_run_wanted decides for the module).
    """
    from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests import (
        api_versions, checks, consistency, k8s_schema, schema,
    )
    target = kubernetes_version or k8s_schema.DEFAULT_VERSION
    bundled = k8s_schema.schema_for(target)[1]  # also rejects a malformed version before any file is read
    docs, findings, read = load_manifests(paths, content, max_file_bytes=max_file_bytes)
    crds = schema.load_crd_schemas(crd_schema_files)
    for doc in docs:
        crds.update(schema.schemas_from_object(doc.obj))
    for doc in docs:
        findings.extend(api_versions.check_api_version(doc, target))
        findings.extend(schema.validate_schema(doc, crds, bundled, target))
        findings.extend(checks.check_workload(doc))
    labels = consistency.DEFAULT_REQUIRED_LABELS if required_labels is None else tuple(required_labels)
    findings.extend(consistency.check_set(docs, labels, default_namespace))
    if connection is not None:
        from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.dry_run import server_dry_run
        findings.extend(server_dry_run(docs, connection, default_namespace or "default"))
    return findings, len(docs), read


def manifest_evidence(findings: Iterable[Finding], documents: int, files: int):
    """(coverage, measurements) of a manifest scan for findings.report.finish_scan.

    An object counts as checked when it was validated against a schema (a bundled core kind or a CRD
    schema); schema.validate_schema reports each other object exactly once as manifest.unknown-kind. A set
    of nothing but unknown kinds checked nothing: coverage 0, so the verdict is pending, not pass.
    """
    from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Coverage
    from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.schema import UNKNOWN_KIND
    from ansible_collections.deploysafe.preflight.plugins.module_utils.verdict import measurement
    unchecked = sum(1 for f in findings if f.check_id == UNKNOWN_KIND.check_id)
    checked = max(documents - unchecked, 0)
    note = f"{documents} object(s) read, none of a kind with a schema (give the CRDs in crd_schemas)" \
        if documents else ""
    measurements = [measurement("manifest_files_read", files, "files"),
                    measurement("objects_read", documents, "objects"),
                    measurement("objects_without_schema", unchecked, "objects")]
    return Coverage("objects_checked", checked, "objects", note), measurements


def all_checks() -> Tuple[Check, ...]:
    from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests import (
        api_versions, checks, consistency, dry_run, schema,
    )
    return (PARSE_ERROR, UNREADABLE) + schema.CHECKS + api_versions.CHECKS + checks.CHECKS + consistency.CHECKS + \
        dry_run.CHECKS
