#!/usr/bin/env bash
# Seeds for fuzz_gateway: request paths, names, query values and action PUT
# bodies as OpenWhisk's tools send them (each input is tried as all four).
set -u
out=$1
i=0
seed() { i=$((i + 1)); printf '%s' "$1" >"$out/seed-$i"; }
seed '/api/v1/namespaces/_/actions'
seed '/api/v1/namespaces/guest/actions/hello'
seed '/api/v1/namespaces/_/activations/0123456789abcdef0123456789abcdef/result'
seed '/api/v1/namespaces/_/actions/a%20b/x'
seed 'ok name.v1@x&y-'
seed 'true'
seed 'maybe'
seed '200'
seed '-1'
seed '{"exec":{"kind":"nodejs:default","code":"function main(p) { return p; }"}}'
seed '{"exec":{"kind":"nodejs:20","code":"function main(){}","main":"main","binary":false},"limits":{"timeout":5000,"memory":128},"parameters":[{"key":"a","value":1}],"annotations":[{"key":"teemate-mode","value":"native"},{"key":"teemate-reuse","value":false}]}'
seed '{"exec":{"kind":"nodejs:default","code":"x"},"annotations":[{"key":"teemate-mode","value":"strawman-edmm"}],"limits":{"memory":512,"timeout":300000}}'
seed '{"limits":{"timeout":99}}'
exit 0
