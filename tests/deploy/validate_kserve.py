"""Validate KServe manifests against KServe's own API model classes, strictly.

The ``kserve`` package (PyPI) ships no CRD or OpenAPI document, but its ``kserve.models``
(V1beta1InferenceService, V1alpha1ServingRuntime, ...) and the ``kubernetes`` client's models
(V1Container, V1Probe, ...) are generated from KServe's and Kubernetes' OpenAPI schemas: each
class lists its fields (``attribute_map``) and their types (``openapi_types``), and its
constructor refuses a missing required field. Every mapping of a manifest is checked here against
its class: an unknown field, a wrong type or a missing required field is an error naming its path.

    python tests/deploy/validate_kserve.py deploy/kserve/*.yaml     (in a Python that has kserve)

Prints one JSON line per document: {"file", "kind", "name", "spec": the document re-read through
the classes}; exits 1 with the errors otherwise.
"""

from __future__ import annotations

import datetime
import json
import re
import sys

import kserve
import kubernetes.client
import yaml

KINDS = {
    ("serving.kserve.io/v1beta1", "InferenceService"): "V1beta1InferenceService",
    ("serving.kserve.io/v1alpha1", "ServingRuntime"): "V1alpha1ServingRuntime",
    ("serving.kserve.io/v1alpha1", "ClusterServingRuntime"): "V1alpha1ClusterServingRuntime",
}


class Invalid(Exception):
    pass


def _class(name: str):
    for module in (kserve, kserve.models, kubernetes.client, kubernetes.client.models):
        if hasattr(module, name):
            return getattr(module, name)
    raise Invalid(f"no model class {name}")


def check(value, typ: str, path: str):
    """``value`` as an instance of the OpenAPI type ``typ``; raises ``Invalid``."""
    if value is None:
        return None
    m = re.fullmatch(r"[lL]ist\[(.+)\]", typ)
    if m:
        if not isinstance(value, list):
            raise Invalid(f"{path}: expected a list, got {type(value).__name__}")
        return [check(v, m.group(1), f"{path}[{i}]") for i, v in enumerate(value)]
    m = re.fullmatch(r"dict\(str, (.+)\)|Dict\[str, (.+)\]", typ)
    if m:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise Invalid(f"{path}: expected a mapping with string keys")
        inner = m.group(1) or m.group(2)
        return {k: check(v, inner, f"{path}.{k}") for k, v in value.items()}
    simple = {"str": str, "bool": bool, "int": int, "float": (int, float), "object": object, "bytes": str}
    if typ in simple:
        if typ in ("int", "float") and isinstance(value, bool) or not isinstance(value, simple[typ]):
            raise Invalid(f"{path}: expected {typ}, got {type(value).__name__} {value!r}")
        return value
    if typ in ("datetime", "date"):
        if not isinstance(value, (str, datetime.date)):
            raise Invalid(f"{path}: expected a {typ}")
        return value
    cls = _class(typ)
    if not isinstance(value, dict):
        raise Invalid(f"{path}: expected a {typ} mapping, got {type(value).__name__}")
    by_key = {key: attr for attr, key in cls.attribute_map.items()}
    unknown = sorted(set(value) - set(by_key))
    if unknown:
        raise Invalid(f"{path}: unknown field(s) {', '.join(unknown)} for {typ}")
    kwargs = {by_key[k]: check(v, cls.openapi_types[by_key[k]], f"{path}.{k}") for k, v in value.items()}
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as e:  # a required field missing, a value outside an enum
        raise Invalid(f"{path}: {typ}: {e}") from None


def to_json(obj):
    """An instance read by ``check`` back to the manifest's own keys (None fields left out)."""
    if isinstance(obj, list):
        return [to_json(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_json(v) for k, v in obj.items()}
    if hasattr(obj, "attribute_map"):
        values = {key: getattr(obj, attr) for attr, key in obj.attribute_map.items()}
        return {key: to_json(v) for key, v in values.items() if v is not None}
    return obj


def kept(doc, read) -> bool:
    """Every value of ``doc`` is in ``read`` unchanged (``read`` may add the classes' defaults)."""
    if isinstance(doc, dict):
        return isinstance(read, dict) and all(k in read and kept(v, read[k]) for k, v in doc.items())
    if isinstance(doc, list):
        return isinstance(read, list) and len(doc) == len(read) and all(map(kept, doc, read))
    return doc == read


def main(paths: list[str]) -> int:
    errors = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        for i, doc in enumerate(docs):
            where = f"{path}#{i}"
            key = (doc.get("apiVersion"), doc.get("kind"))
            if key not in KINDS:
                errors.append(f"{where}: unknown apiVersion/kind {key}")
                continue
            try:
                obj = check(doc, KINDS[key], where)
            except Invalid as e:
                errors.append(str(e))
                continue
            spec = to_json(obj)["spec"]
            if not kept(doc["spec"], spec):  # nothing dropped or changed on the way through the classes
                errors.append(f"{where}: the spec does not survive its classes unchanged")
                continue
            print(
                json.dumps({"file": path, "kind": doc["kind"], "name": doc["metadata"]["name"], "spec": spec})
            )
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
