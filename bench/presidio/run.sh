#!/usr/bin/env bash
# The aims-versus-Presidio evaluation: sets up the Python environment (target/presidio-venv),
# builds the release `aims` binary, generates the data and prints the Markdown tables.
# Results (JSON and the generated data) land in target/presidio/.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
python="$("$root/bench/presidio/setup.sh" | tail -1)"
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p aims-cli
cd "$root/bench/presidio"
"$python" evaluate.py "$root/target/release/aims" "$root/target/presidio" "${1:-6000}"
