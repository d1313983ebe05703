"""Runs a Python-backend model repository as Triton does, with the stand-in ``pb_utils``.

``load(model_dir)`` reads ``config.pbtxt`` with Triton's own ModelConfig protobuf (from
``tritonclient``) when installed, builds the ``args`` Triton's stub passes to ``initialize`` (all
strings, ``model_config`` as JSON), imports ``<version>/model.py`` by path and initializes it.
``infer`` checks requests and responses against the config as Triton's core does: required inputs
present, data types and ranks as declared, one response per request, outputs declared.

Also a script: ``python tests/triton_harness.py MODEL_DIR IN.npz OUT.npz`` runs one request in a
process of its own (run with ``python -I``: only the repository's engine copy is importable).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import uuid
from pathlib import Path

import numpy as np

STUB = Path(__file__).resolve().parent / "triton_stub"
if str(STUB) not in sys.path:
    sys.path.insert(0, str(STUB))

import triton_python_backend_utils as pb_utils  # noqa: E402


def _proto_config(text: str) -> dict | None:
    """The config parsed by Triton's ModelConfig message (None without tritonclient)."""
    spec = importlib.util.find_spec("tritonclient")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "grpc" / "model_config_pb2.py"
    mod_spec = importlib.util.spec_from_file_location("inkhue_test_model_config_pb2", path)
    pb2 = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(pb2)  # the generated module alone: tritonclient.grpc needs grpcio
    from google.protobuf import json_format, text_format

    message = text_format.Parse(text, pb2.ModelConfig())  # raises on any unknown field or value
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def _minimal_config(text: str) -> dict:
    """Fallback without tritonclient: the fields the harness checks, by pattern."""
    tensors = re.findall(r'name: "(\w+)" data_type: (TYPE_\w+) dims: \[([^\]]*)\]( optional: true)?', text)
    config: dict = {"input": [], "output": []}
    for i, (name, dtype, dims, optional) in enumerate(tensors):
        entry = {"name": name, "data_type": dtype, "dims": dims.replace(" ", "").split(",")}
        if optional:
            entry["optional"] = True
        config["input" if i < len(tensors) - 1 else "output"].append(entry)
    config["backend"] = re.search(r'backend: "(\w+)"', text).group(1)
    config["parameters"] = {
        k: {"string_value": v} for k, v in re.findall(r'key: "(\w+)" value: \{ string_value: "([^"]*)"', text)
    }
    return config


class Triton:
    """One model instance, loaded from a repository folder as Triton would."""

    def __init__(self, model_dir: Path, kind: str = "CPU") -> None:
        text = (model_dir / "config.pbtxt").read_text()
        self.config = _proto_config(text) or _minimal_config(text)
        assert self.config["backend"] == "python"
        version = "1"
        args = {
            "model_config": json.dumps(self.config),
            "model_instance_kind": kind,
            "model_instance_name": f"{model_dir.name}_0_0",
            "model_instance_device_id": "0",
            "model_repository": str(model_dir),
            "model_version": version,
            "model_name": model_dir.name,
        }
        spec = importlib.util.spec_from_file_location(
            f"triton_model_{uuid.uuid4().hex}", model_dir / version / "model.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self.model = module.TritonPythonModel()
        self.model.initialize(args)

    def request(self, tensors: dict[str, np.ndarray], parameters: dict | None = None):
        for entry in self.config["input"]:
            if entry["name"] not in tensors:
                assert entry.get("optional"), f"Triton refuses a request without {entry['name']}"
        inputs = []
        for name, arr in tensors.items():
            entry = pb_utils.get_input_config_by_name(self.config, name)
            assert entry is not None, f"Triton refuses an unknown input {name}"
            assert arr.dtype == pb_utils.triton_string_to_numpy(entry["data_type"])
            dims = [int(d) for d in entry["dims"]]
            assert arr.ndim == len(dims) and all(d in (-1, n) for d, n in zip(dims, arr.shape))
            inputs.append(pb_utils.Tensor(name, arr))
        names = [o["name"] for o in self.config["output"]]
        return pb_utils.InferenceRequest(inputs, names, uuid.uuid4().hex, parameters or {})

    def infer(self, requests: list) -> list:
        responses = self.model.execute(requests)
        assert len(responses) == len(requests)
        for response in responses:
            assert isinstance(response, pb_utils.InferenceResponse)
            for tensor in response.output_tensors():
                entry = pb_utils.get_output_config_by_name(self.config, tensor.name())
                assert entry is not None, tensor.name()
                assert tensor.as_numpy().dtype == pb_utils.triton_string_to_numpy(entry["data_type"])
                assert tensor.as_numpy().ndim == len(entry["dims"])
        return responses


def main(model_dir: str, inputs: str, output: str) -> int:
    data = dict(np.load(inputs))
    params = json.loads(str(data.pop("parameters"))) if "parameters" in data else None
    triton = Triton(Path(model_dir))
    (response,) = triton.infer([triton.request(data, params)])
    assert not response.has_error(), response.error().message()
    import engine

    np.savez(output, COLOR=pb_utils.get_output_tensor_by_name(response, "COLOR").as_numpy(),
             engine_file=np.array(engine.__file__))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
