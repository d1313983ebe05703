"""deploy/kserve/*.yaml: valid against KServe's API model classes, and consistent with the image.

The ``kserve`` package ships no CRD schema; its generated model classes carry the schema's fields
and types (tests/deploy/validate_kserve.py checks each mapping strictly). KServe pins many
packages, so it may live in a Python of its own (tests/kserve_python.py, as tests/engine/test_triton.py).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.deploy import containerfile
from tests.kserve_python import kserve_python

REPO = Path(__file__).resolve().parents[2]
KSERVE_DIR = REPO / "deploy" / "kserve"
VALIDATE = REPO / "tests" / "deploy" / "validate_kserve.py"
KSERVE_PYTHON = kserve_python()


def _has(modules: str) -> bool:
    r = subprocess.run([KSERVE_PYTHON, "-c", f"import {modules}"], capture_output=True, timeout=120)
    return r.returncode == 0


pytestmark = pytest.mark.skipif(
    not _has("kserve, kubernetes, yaml"),
    reason="KServe is not installed (pip install kserve pyyaml, or point INKHUE_KSERVE_PYTHON at a "
    "Python that has it)",
)


def validate(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [KSERVE_PYTHON, str(VALIDATE), *map(str, paths)], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module", name="docs")
def docs_fixture() -> dict:
    r = validate(*sorted(KSERVE_DIR.glob("*.yaml")))
    assert r.returncode == 0, r.stderr
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    return {(d["kind"], d["name"]): d["spec"] for d in docs}


def _arg(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_all_manifests_validate(docs):
    assert set(docs) == {("InferenceService", "inkhue"), ("ServingRuntime", "inkhue-triton"),
                         ("InferenceService", "inkhue-triton")}  # fmt: skip


def test_custom_predictor_matches_the_image(docs):
    image = containerfile.parse(REPO / "deploy" / "Containerfile.cuda")
    pred = docs["InferenceService", "inkhue"]["predictor"]
    (c,) = pred["containers"]
    args = c["args"]
    port = int(_arg(args, "--port"))
    assert c["name"] == "kserve-container" and [p["containerPort"] for p in c["ports"]] == [port]
    assert c["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": port}
    assert c["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    # autoscaling: one request in flight per worker is the target; workers + queue the hard cap
    workers, queue = int(_arg(args, "--workers")), int(_arg(args, "--queue"))
    assert pred["scaleMetric"] == "concurrency" and pred["scaleTarget"] == workers
    assert pred["containerConcurrency"] == workers + queue
    assert 1 <= pred["minReplicas"] <= pred["maxReplicas"]
    assert pred["timeout"] >= float(_arg(args, "--timeout"))
    # non-root as the image's user; the token is the mounted secret the server reads
    uid = int(image.user.split(":")[0])
    assert pred["securityContext"]["runAsNonRoot"] and pred["securityContext"]["runAsUser"] == uid
    token_file = next(e["value"] for e in c["env"] if e["name"] == "INKHUE_TOKEN_FILE")
    (mount,) = c["volumeMounts"]
    (volume,) = pred["volumes"]
    assert token_file == f"{mount['mountPath']}/token" and volume["name"] == mount["name"]
    assert volume["secret"]["secretName"] == "inkhue" and volume["secret"]["defaultMode"] == 0o440
    # resources: a GPU for --device cuda, requests and limits for everything
    assert _arg(args, "--device") == "cuda" and c["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert set(c["resources"]["requests"]) == set(c["resources"]["limits"]) >= {"cpu", "memory"}
    assert _arg(image.cmd, "--device") == "cuda" and "command" not in c  # the image's entrypoint


def test_triton_runtime_serves_the_python_backend_repository(docs):
    runtime = docs["ServingRuntime", "inkhue-triton"]
    pred = docs["InferenceService", "inkhue-triton"]["predictor"]
    assert pred["model"]["runtime"] == "inkhue-triton"
    assert pred["model"]["modelFormat"]["name"] in {f["name"] for f in runtime["supportedModelFormats"]}
    (c,) = runtime["containers"]
    assert "--model-repository=/mnt/models" in c["args"] and "--http-port=8080" in c["args"]
    assert pred["model"]["readinessProbe"]["httpGet"] == {"path": "/v2/models/inkhue/ready", "port": 8080}
    assert pred["model"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pred["scaleMetric"] == "concurrency" and 1 <= pred["minReplicas"] <= pred["maxReplicas"]


@pytest.mark.parametrize(
    "edit, error",
    [
        (lambda t: t.replace("scaleTarget:", "scaleTargt:"), "unknown field(s) scaleTargt"),
        (lambda t: t.replace("minReplicas: 1 ", 'minReplicas: "1"'), "expected int"),
        (
            lambda t: t.replace("- name: kserve-container\n", "- nam: kserve-container\n"),
            "unknown field(s) nam",
        ),
        (lambda t: t.replace("periodSeconds: 5\n", "periodSecond: 5\n"), "unknown field(s) periodSecond"),
    ],
)
def test_the_validator_refuses_mistakes(tmp_path, edit, error):
    text = (KSERVE_DIR / "inkhue-serve.yaml").read_text()
    bad = edit(text)
    assert bad != text
    (tmp_path / "bad.yaml").write_text(bad)
    r = validate(tmp_path / "bad.yaml")
    assert r.returncode == 1 and error in r.stderr, r.stderr
