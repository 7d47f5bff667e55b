#!/usr/bin/env bash
# The Kotlin binding benchmark (issue 10): builds the aims-ffi library in release (the bindgen
# stays a debug build: a release bindgen costs minutes; the bindings it generates are the same),
# compiles bench/kotlin/Bench.kt with the generated Kotlin and runs it on the JVM.
#
#   bench/kotlin/run.sh [CALLS] [SAMPLES]      (defaults 2000 and 31)
#
# Needs what scripts/test-kotlin needs (it installs kotlinc under target/ on first use).
set -euo pipefail
cd "$(dirname "$0")/../.."

out=target/aims-ffi
jna=/usr/share/java/jna.jar
kotlin_home=target/kotlin-compiler/node_modules/kotlin-compiler
[ -x "$kotlin_home/bin/kotlinc" ] || { echo "run scripts/test-kotlin once first (installs kotlinc)" >&2; exit 2; }

cargo build --workspace --quiet
cargo build --release --package aims-ffi --lib --quiet
rm -rf "$out/bench-bindings"
target/debug/uniffi-bindgen generate --no-format --library target/debug/libaims_ffi.so -l kotlin -o "$out/bench-bindings"
"$kotlin_home/bin/kotlinc" -nowarn -cp "$jna" "$out/bench-bindings/aims/aims_ffi.kt" bench/kotlin/Bench.kt -d "$out/bench.jar"
java -Djna.library.path=target/release -cp "$out/bench.jar:$jna:$kotlin_home/lib/kotlin-stdlib.jar" \
    aims.bench.BenchKt bench/python/policy.yaml "${1:-2000}" "${2:-31}"
