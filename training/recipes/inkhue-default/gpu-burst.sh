#!/usr/bin/env bash
# One training burst on a lent GPU machine (the device tool's `run`), from the repository root:
#   draft 1.0 (5-draft-1.toml) for DRAFT_MIN minutes, then the refinement fine-tuned on it
#   (6-refine-1.toml, from 0.3.0's refinement) for REFINE_MIN minutes, both on the corpus shard
#   that travels with the working tree (inkhue-train shard --out data/shard); REFINE_MIN=0 skips
#   the refinement, DRAFT_RECIPE / DRAFT_INIT continue an earlier burst (DRAFT_RECIPE: a file name
#   in this folder, or a path such as training/recipes/experiments/5-draft-1-no-spread.toml). Writes
#   to $OUT:
#   draft.ckpt.part-* (the draft's last checkpoint, split under the 16 MiB file limit),
#   refine.safetensors (the refinement's last checkpoint), logs.tar.gz (configs, logs, summaries,
#   last sample grids, nvidia-smi). Export and evaluation run afterwards on any machine.
# Runs on a CPU too (DRAFT_MIN=0.2 REFINE_MIN=0.2 WORKERS=1 OUT=/tmp/o bash .../gpu-burst.sh).
set -u -o pipefail
OUT=${OUT:?set OUT to the folder that receives the results}
SHARD=${SHARD:-data/shard}
DRAFT_RECIPE=${DRAFT_RECIPE:-5-draft-1.toml}
DRAFT_INIT=${DRAFT_INIT:-}  # weights to start the draft from (a later burst continues an earlier one)
DRAFT_MIN=${DRAFT_MIN:-6.5}
REFINE_MIN=${REFINE_MIN:-1.5}
WORKERS=${WORKERS:-15}
RUNS=${RUNS:-runs/burst}
RECIPES=training/recipes/inkhue-default
PY=${PY:-python3}
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$OUT" "$RUNS"
# the device image lacks a few small pure-Python dependencies: they travel as wheels in .whl/
if compgen -G ".whl/*.whl" >/dev/null; then
  $PY -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
{ nvidia-smi 2>&1 || true; $PY -c 'import torch, sys; print(sys.version, torch.__version__, torch.cuda.is_available())'; } >"$RUNS/machine.txt"
cat "$RUNS/machine.txt"
test -f "$SHARD/manifest.csv" || { echo "no shard at $SHARD"; exit 1; }

case $DRAFT_RECIPE in */*) draft_cfg=$DRAFT_RECIPE ;; *) draft_cfg=$RECIPES/$DRAFT_RECIPE ;; esac
test -f "$draft_cfg" || { echo "no draft recipe at $draft_cfg"; exit 1; }
$PY -m training.cli train --stage draft --config "$draft_cfg" --corpus "$SHARD" \
  ${DRAFT_INIT:+--init "$DRAFT_INIT"} --run "$RUNS/draft" --minutes "$DRAFT_MIN" --workers "$WORKERS" --no-resume 2>&1 | tr '\r' '\n' | grep -v '^draft: ' | tee "$RUNS/draft.log"
draft_rc=${PIPESTATUS[0]}
last_draft=$(ls "$RUNS"/draft/ckpt-*.safetensors 2>/dev/null | tail -1)
if [ -n "$last_draft" ]; then
  split -b 15M -d "$last_draft" "$OUT/draft.ckpt.part-"
  [ "$REFINE_MIN" = 0 ] || $PY -m training.cli train --stage refine --config $RECIPES/6-refine-1.toml --corpus "$SHARD" \
    --draft "$last_draft" --init engine/models/inkhue-default/refine.safetensors \
    --run "$RUNS/refine" --minutes "$REFINE_MIN" --workers "$WORKERS" --no-resume 2>&1 | tr '\r' '\n' | grep -v '^refine: ' | tee "$RUNS/refine.log"
  last_refine=$(ls "$RUNS"/refine/ckpt-*.safetensors 2>/dev/null | tail -1)
  [ -n "$last_refine" ] && cp "$last_refine" "$OUT/refine.safetensors"
fi
# logs and the newest sample grid of each stage
keep=("$RUNS/machine.txt")
for stage in draft refine; do
  for f in "$RUNS/$stage.log" "$RUNS/$stage/config.toml" "$RUNS/$stage/log.jsonl" "$RUNS/$stage/summary.json"; do
    [ -f "$f" ] && keep+=("$f")
  done
  s=$(ls "$RUNS/$stage/samples/"*.png 2>/dev/null | tail -1)
  [ -n "$s" ] && keep+=("$s")
done
tar czf "$OUT/logs.tar.gz" "${keep[@]}"
ls -la "$OUT"
exit $draft_rc
