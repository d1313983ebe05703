#!/usr/bin/env bash
# The spread ablation in one device call: recipe 5 (with the spread) and its no-spread twin, each
# trained from scratch for MIN minutes on the same lent GPU and the same shard, back to back
# (gpu-burst.sh twice, no refinement). Writes $OUT/with-spread/ and $OUT/no-spread/ (draft.ckpt.part-*,
# logs.tar.gz). Afterwards, on any machine, for each: cat draft.ckpt.part-* > draft.safetensors;
#   inkhue-train export --draft draft.safetensors --refine runs/inkhue-default/refine-1 --out m-VARIANT
#   inkhue-train evaluate --model m-with-spread --model m-no-spread --split real-val --limit 0
# Runs on a CPU too (MIN=0.2 WORKERS=1 OUT=/tmp/o bash training/recipes/experiments/gpu-ablation.sh).
set -u -o pipefail
OUT=${OUT:?set OUT to the folder that receives the results}
MIN=${MIN:-4.0}
burst=training/recipes/inkhue-default/gpu-burst.sh
rc=0
for variant in with-spread no-spread; do
  case $variant in
    with-spread) recipe=training/recipes/inkhue-default/5-draft-1.toml ;;
    no-spread) recipe=training/recipes/experiments/5-draft-1-no-spread.toml ;;
  esac
  DRAFT_RECIPE=$recipe DRAFT_MIN=$MIN REFINE_MIN=0 RUNS=runs/ablation-$variant OUT=$OUT/$variant \
    bash "$burst" || rc=$?
done
exit $rc
