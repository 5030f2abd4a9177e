#!/usr/bin/env bash
# Smoke run of the built CLI with the Node given in $NODE: the README's main command and its exit codes.
set -uo pipefail
NODE=${NODE:-node}
fail() { echo "smoke: $*" >&2; exit 1; }
"$NODE" bin/run.js doctor --offline -c examples/config.toml >/dev/null; [ $? -eq 0 ] || fail "doctor on examples/config.toml should exit 0"
"$NODE" bin/run.js doctor --offline -c examples/typos.toml >/dev/null; [ $? -eq 1 ] || fail "doctor on examples/typos.toml should exit 1"
"$NODE" bin/run.js doctor --offline -c examples/broken.toml >/dev/null 2>&1; [ $? -eq 2 ] || fail "doctor on examples/broken.toml should exit 2"
"$NODE" bin/run.js explain "ERROR: Job failed (system failure): timed out waiting for pod to start" >/dev/null; [ $? -eq 0 ] || fail "explain should match"
"$NODE" bin/run.js doctor --offline -c examples/values.yaml --json | "$NODE" -e 'const e=JSON.parse(require("fs").readFileSync(0,"utf8")); if(e.result.config.format!=="helm") process.exit(1)' || fail "doctor --json on values.yaml"
"$NODE" bin/run.js sim run --scenario healthy >/dev/null 2>&1; [ $? -eq 0 ] || fail "doctor on the healthy simulated cluster should exit 0"
"$NODE" bin/run.js sim run --scenario rbac-missing-attach >/dev/null 2>&1; [ $? -eq 1 ] || fail "doctor on rbac-missing-attach should exit 1"
"$NODE" bin/run.js sim run --scenario apiserver-overloaded >/dev/null 2>&1; [ $? -eq 3 ] || fail "doctor on apiserver-overloaded should exit 3"
echo "smoke: ok on $("$NODE" --version)"
