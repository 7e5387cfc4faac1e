#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a bounded time. Not part of CI.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
#
# Installs cargo-fuzz if it is missing. libFuzzer needs nightly compiler flags; the pinned
# stable toolchain is used with RUSTC_BOOTSTRAP=1 rather than a separate nightly.
# Each run starts from the committed seeds in fuzz/seeds/<target> plus the corpus grown so far
# in fuzz/corpus/<target>; crashing inputs land in fuzz/artifacts/<target> (corpus and artifacts
# are git-ignored). Reproduce a crash with:
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>
set -euo pipefail

SECS="${1:-60}"
case "$SECS" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
ROOT="$PWD"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz not found: installing it" >&2
  cargo install cargo-fuzz --locked
fi

TARGETS=(cycle terms csv market ingest)
failed=()
for target in "${TARGETS[@]}"; do
  echo "=== fuzz target '$target' for ${SECS}s ===" >&2
  corpus="$ROOT/fuzz/corpus/$target"
  mkdir -p "$corpus"
  # libFuzzer writes new inputs to the first directory only, so the seeds stay as committed.
  if ! RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "$corpus" "$ROOT/fuzz/seeds/$target" \
    -- -max_total_time="$SECS"; then
    failed+=("$target")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz targets that found a crash or failed: ${failed[*]} (see fuzz/artifacts/)" >&2
  exit 1
fi
echo "all fuzz targets ran ${SECS}s without a crash" >&2
