#!/usr/bin/env bash
# Runs every loom model. Bounds keep the whole suite within minutes on two
# cores: each model is small (capacity 1 or 2, at most three threads but for
# one four-thread model that sets a lower bound for itself), and
# LOOM_MAX_PREEMPTIONS bounds how many times a thread is preempted.
set -euo pipefail
cd "$(dirname "$0")"
export RUSTFLAGS="--cfg loom ${RUSTFLAGS:-}"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
exec cargo test --release "$@"
