#!/usr/bin/env bash
# Installs what Almanac needs on a fresh Debian machine with rustup, then builds the release
# binary. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust with rustup first" >&2
  exit 1
fi
# The toolchain is pinned in rust-toolchain.toml; rustup installs it on first use.
rustup show active-toolchain >/dev/null
cargo build --release --locked -p almanac-cli
