#!/usr/bin/env bash
# Installs every Debian package TeeMate needs. Idempotent and quick when all are
# present; run as root (or with sudo available).
set -euo pipefail

packages=(
    gcc make pkg-config binutils          # host build
    clang libclang-rt-14-dev              # libFuzzer targets
    libssl-dev openssl                    # host crypto (OpenSSL libcrypto) and the reference verifier
    libjansson-dev                        # JSON (config.json, state, inspect --json)
    libmicrohttpd-dev                     # HTTP/1.1 of `teemate fn serve` (action protocol) and `teemate gateway`
    libseccomp-dev libcap-dev             # containers: seccomp filters, capability names
    runc podman containerd                # the container baseline (bench/container) and the engine tests (podman, ctr)
    busybox-static                        # the root filesystem of the container tests and benches
    musl-dev                              # the enclave's pure libc functions (static libc.a)
    libmbedtls-dev                        # crypto inside the enclave (static libmbedcrypto.a)
    duktape-dev                           # the JavaScript engine's shipped source
    duktape                               # `duk`, the engine's shell: runs the JS functions in tests
    libjs-mustache                        # mustache.js 3.x for the dynamic-html function
    curl                                  # the gateway's curl recipes and tests
    python3                               # independent reference for measurement vectors
    perl                                  # byte reversal in the OpenSSL cross-check
    redis-tools redis-server              # the key-value store's judges (redis-cli, redis-benchmark, redis-check-rdb) and baseline
    jq                                    # JSON checks in the benchmark tests
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm for the npm openwhisk client in the gateway's tests: from
# Debian unless the machine has them already (a NodeSource nodejs bundles
# npm, and Debian's npm package conflicts with it).
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "setup: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian's redis-server package starts a system server on 6379 where an init
# system runs; the tests and benches start their own on free ports.
if command -v systemctl >/dev/null && systemctl is-active -q redis-server 2>/dev/null; then
    systemctl stop redis-server || true
fi
# podman run --userns=auto (as root) takes its ranges from the user
# "containers" in /etc/subuid and /etc/subgid; podman's documentation gives
# this range, above every uid a system hands out.
if [ "$(id -u)" -eq 0 ]; then
    for f in /etc/subuid /etc/subgid; do
        grep -q '^containers:' "$f" 2>/dev/null || echo "containers:2147483647:2147483648" >>"$f"
    done
fi
echo "setup: all packages present"
