#!/usr/bin/env bash
# README command 1: set up, then train, sample and evaluate the quickstart on the built-in digits.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
venv="$(bash scripts/setup.sh)"
export PATH="$venv/bin:$PATH"
run="${CONDIFF_LOG_DIR:-outputs}/digits/quickstart"
condiff-train experiment=quickstart trainer.enable_progress_bar="${CONDIFF_PROGRESS:-true}" "$@"
condiff-sample export_dir="$run/export" num_samples=500 sampler=ddim sampler.steps=25 sampler.guidance=2.0
condiff-evaluate samples="$run/generated/samples.safetensors"
echo
echo "quickstart done: samples $run/generated/samples.png, metrics $run/generated/metrics.json, wandb runs under $run/wandb and $run/generated/wandb"
