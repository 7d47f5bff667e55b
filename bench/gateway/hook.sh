#!/usr/bin/env bash
# Wall time of one `aims hook claude-code` invocation (release build, a 100-rule policy, a
# durable log: strict fsync of the decision before the answer) with 1,000 and with 1,000,000
# records already in the log, side by side under hyperfine.
# Usage: bench/gateway/hook.sh [WORKDIR]   (needs hyperfine; writes ~0.6 GB under WORKDIR)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-target/bench-hook}
cargo build --release --quiet --bin aims --example fill_log -p aims-cli -p aims-gateway
aims=target/release/aims
mkdir -p "$work"
python3 - "$work/policy.yaml" <<'PY'
import sys
rules = [f"""  - id: tool-{i}
    match:
      tool: tool_{i}
      args:
        /path: {{matches: '^/srv/{i}/'}}
    effect: deny
    reason: rule {i}""" for i in range(97)]
rules += ["""  - id: allow-dev
    match: {tool: [Bash, Read, Write, Edit]}
    effect: allow""", """  - id: no-rm
    match:
      tool: Bash
      args:
        /command: {matches: 'rm\\s+-[a-zA-Z]*r'}
    effect: deny
    reason: recursive deletes""", """  - id: mask-keys
    match:
      tool: Write
      args:
        /content: {matches: 'AKIA'}
    effect: redact
    redact: {entities: [AWS_ACCESS_KEY]}"""]
open(sys.argv[1], "w").write("default: deny\nrules:\n" + "\n".join(rules) + "\n")
PY
for n in 1000 1000000; do
    if [ ! -d "$work/log-$n" ]; then
        target/release/examples/fill_log "$work/policy.yaml" "$work/log-$n" "$n"
    fi
done
payload='{"session_id":"s","cwd":"/p","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"npm test"},"tool_use_id":"t"}'
echo "$payload" >"$work/payload.json"
hyperfine --warmup 5 --runs "${RUNS:-100}" --export-json "$work/hook.json" \
    -n "1k records" "$aims hook claude-code --policy $work/policy.yaml --log $work/log-1000 < $work/payload.json" \
    -n "1M records" "$aims hook claude-code --policy $work/policy.yaml --log $work/log-1000000 < $work/payload.json"

