#!/usr/bin/env bash
# The prepared GPU check (issue: foundation): quickstart with trainer=gpu (bf16-mixed) against the CPU,
# plus the throughput table. One command on a machine with a GPU; writes docs/benchmarks.md and
# prints the two quickstart timings and metrics. Needs the environment of scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="$(bash scripts/setup.sh)"
export PATH="$venv/bin:$PATH" CONDIFF_LOG_DIR="${CONDIFF_LOG_DIR:-outputs/gpu_check}"
python benchmarks/train_throughput.py --steps 300
for trainer in gpu cpu; do
  start=$(date +%s.%N)
  condiff-train experiment=quickstart trainer=$trainer run_name=$trainer logger=csv resume=false \
    trainer.enable_progress_bar=false threads=2 > "$CONDIFF_LOG_DIR.$trainer.log" 2>&1
  end=$(date +%s.%N)
  echo "quickstart trainer=$trainer: $(python -c "print(f'{6000 / ($end - $start):.1f} steps/s end to end ({$end - $start:.0f} s)')")"
  grep -E "val/(accuracy|frechet)" "$CONDIFF_LOG_DIR.$trainer.log" || true
done
