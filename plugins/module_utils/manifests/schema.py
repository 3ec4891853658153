# Copyright: (c) 2026, deploysafe.preflight contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline schema check against a bundled field schema (k8s_schema.py picks the version) and user-given
CRD schemas.

Reports unknown fields (typos such as `imagePullPolicyy`), wrong types (a label value that is a
number), missing required fields, apiVersions the stated Kubernetes version does not serve for a
known kind, and kinds with no schema at all (CRDs) as `manifest.unknown-kind`.
"""

from __future__ import annotations

import datetime
import difflib
import json
import re
from types import ModuleType
from typing import Any, Dict, Iterable, List, Optional

from ansible_collections.deploysafe.preflight.plugins.module_utils.findings import Check, Finding, make_finding
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.api_versions import lifecycle, parse_version
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.model import Document, ManifestError, escape_pointer
from ansible_collections.deploysafe.preflight.plugins.module_utils.manifests.k8s_schema import DEFAULT_VERSION, schema_for

SCHEMA = Check("manifest.schema", "high", "Manifest does not match the Kubernetes schema",
               "Fix the field name, type or missing required field reported at the pointer.")
UNKNOWN_KIND = Check("manifest.unknown-kind", "low", "Kind has no schema to validate against (CRD?)",
                     "Pass the CRD (or its JSON schema) in crd_schemas so custom resources are validated too.")
CHECKS = (SCHEMA, UNKNOWN_KIND)
# Quantity maps (resources.limits...) are typed map[string]string in the client but YAML writers use numbers.
_QUANTITY_MAPS = {"limits", "requests", "hard", "default", "defaultRequest", "max", "min",
                  "maxLimitRequestRatio", "capacity", "allocatable", "used"}
MAX_FINDINGS_PER_DOC = 25


def _type_ok(value: Any, typ: str, field_name: str) -> bool:
    if typ == "object":
        return True
    if typ == "str" or typ == "bytes":
        # an unquoted 2026-11-25 is a YAML timestamp; the API machinery's YAML->JSON keeps it a string
        return isinstance(value, (str, datetime.date))
    if typ == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if typ == "bool":
        return isinstance(value, bool)
    if typ == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if typ == "datetime":
        return isinstance(value, (str, datetime.date))
    return True


class _Validator:
    def __init__(self, doc: Document, models: Dict[str, Any]) -> None:
        self.doc = doc
        self.models = models
        self.findings: List[Finding] = []

    def add(self, pointer: str, message: str) -> None:
        if len(self.findings) < MAX_FINDINGS_PER_DOC:
            self.findings.append(make_finding(SCHEMA, f"{self.doc.ref()}: {message}", self.doc.location(pointer)))

    def check(self, value: Any, typ: str, pointer: str, field_name: str) -> None:
        if value is None:
            return  # explicit null is accepted by the API server for optional fields
        if typ.startswith("List["):
            if not isinstance(value, list):
                self.add(pointer, f"{pointer or '/'} must be a list, not {type(value).__name__}")
                return
            for i, item in enumerate(value):
                self.check(item, typ[5:-1], f"{pointer}/{i}", field_name)
        elif typ.startswith("Dict["):
            if not isinstance(value, dict):
                self.add(pointer, f"{pointer} must be a map, not {type(value).__name__}")
                return
            inner = typ[5:-1].split(", ", 1)[1]
            for key, item in value.items():
                if inner == "str" and field_name in _QUANTITY_MAPS and isinstance(item, (int, float)) \
                        and not isinstance(item, bool):
                    continue
                self.check(item, inner, f"{pointer}/{escape_pointer(key)}", field_name)
        elif typ in self.models:
            self.model(value, typ, pointer)
        elif not _type_ok(value, typ, field_name):
            shown = "a string" if typ in ("str", "bytes") else "an integer" if typ == "int" else \
                "a boolean" if typ == "bool" else typ
            self.add(pointer, f"{pointer} must be {shown}, not {type(value).__name__} ({str(value)[:40]!r})")

    def model(self, value: Any, name: str, pointer: str) -> None:
        if not isinstance(value, dict):
            self.add(pointer, f"{pointer or '/'} must be an object ({name}), not {type(value).__name__}")
            return
        spec = self.models[name]
        fields = spec["f"]
        for key, item in value.items():
            child = f"{pointer}/{escape_pointer(key)}"
            if key not in fields:
                close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.75)
                hint = f" (did you mean {close[0]}?)" if close else ""
                self.add(child, f"unknown field {child}{hint}")
                continue
            self.check(item, fields[key], child, key)
        for req in spec["r"]:
            if value.get(req) is None:
                self.add(pointer, f"{pointer or '/'} is missing required field {req}")


def load_crd_schemas(paths: Iterable[str]) -> Dict[str, Dict[str, Any]]:
    """`group/version Kind` -> JSON schema, from CRD manifests or JSON schema files that carry
    x-kubernetes-group-version-kind."""
    import yaml
    schemas: Dict[str, Dict[str, Any]] = {}
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                docs = list(yaml.safe_load_all(handle))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ManifestError(f"crd schema {path}: cannot load: {exc}") from None
        for doc in docs:
            schemas.update(schemas_from_object(doc))
    return schemas


def schemas_from_object(doc: Any) -> Dict[str, Dict[str, Any]]:
    out: Dict[str, Dict[str, Any]] = {}
    if not isinstance(doc, dict):
        return out
    if doc.get("kind") == "CustomResourceDefinition":
        spec = doc.get("spec") or {}
        kind = (spec.get("names") or {}).get("kind")
        for version in spec.get("versions") or []:
            schema = ((version or {}).get("schema") or {}).get("openAPIV3Schema")
            if kind and schema:
                out[f"{spec.get('group')}/{version.get('name')} {kind}"] = schema
    for gvk in doc.get("x-kubernetes-group-version-kind") or []:
        group = gvk.get("group")
        out[f"{group + '/' if group else ''}{gvk.get('version')} {gvk.get('kind')}"] = doc
    return out


def validate_schema(doc: Document, crd_schemas: Optional[Dict[str, Dict[str, Any]]] = None,
                    schema: Optional[ModuleType] = None, target: str = "") -> List[Finding]:
    """Schema findings for one document against `schema` (a bundled k8s_schema_* module; by default the
    one for DEFAULT_VERSION). `target` is the Kubernetes version the user deploys to: an apiVersion in the
    deprecation table is left to api_versions.check_api_version when the target no longer serves it."""
    target = target or DEFAULT_VERSION
    if schema is None:
        schema = schema_for(target)[1]
    obj = doc.obj
    if not isinstance(obj, dict):
        return [make_finding(SCHEMA, f"document #{doc.index + 1} is a {type(obj).__name__}, not a Kubernetes object",
                             doc.location(""))]
    missing = [k for k in ("apiVersion", "kind") if not obj.get(k)]
    if missing:
        return [make_finding(SCHEMA, f"document #{doc.index + 1} has no {' or '.join(missing)}", doc.location(""))]
    key = f"{doc.api_version} {doc.kind}"
    version = schema.KUBERNETES_VERSION
    if key in schema.KINDS:
        validator = _Validator(doc, schema.MODELS)
        validator.model(obj, schema.KINDS[key], "")
        return validator.findings
    if crd_schemas and key in crd_schemas:
        return _validate_json_schema(doc, crd_schemas[key])
    known = lifecycle(doc.api_version, doc.kind)
    if known and known[1] and parse_version(target) >= parse_version(known[1]):
        return []  # removed in the target: manifest.api-removed says so, with the release and the replacement
    served = [k.split(" ")[0] for k in schema.KINDS if k.split(" ")[1] == doc.kind]
    if served and not known:
        return [make_finding(SCHEMA, f"{doc.ref()}: apiVersion {doc.api_version} is not served for {doc.kind} in "
                                     f"Kubernetes {version}; use {' or '.join(served)}",
                             doc.location("/apiVersion"))]
    return [make_finding(UNKNOWN_KIND, f"{doc.ref()}: no schema for {key} (the bundled Kubernetes {version} "
                                       f"schema has the core kinds' current versions; CRDs need crd_schemas)",
                         doc.location("/kind"))]


def _validate_json_schema(doc: Document, schema: Dict[str, Any]) -> List[Finding]:
    try:
        import jsonschema
    except ImportError:
        return [make_finding(UNKNOWN_KIND, f"{doc.ref()}: a schema was given but the jsonschema Python package is "
                                           f"not installed on this host", doc.location("/kind"))]
    # apiVersion/kind/metadata are validated by the API machinery, not the CRD's schema.
    relaxed = json.loads(json.dumps(schema, default=str))
    out = []
    for error in sorted(jsonschema.Draft7Validator(relaxed).iter_errors(doc.obj), key=lambda e: list(e.path))[:25]:
        pointer = "".join(f"/{escape_pointer(p)}" for p in error.path)
        text = re.sub(r"\s+", " ", error.message)[:200]
        out.append(make_finding(SCHEMA, f"{doc.ref()}: {pointer or '/'}: {text}",
                                doc.location(pointer)))
    return out
