# events: runc's stream (stats every --interval, an "oom" line when the
# kernel OOM-kills in the container, the end when the container is deleted)
# and --stats, for teemate and Debian's runc side by side on the same busybox
# bundle: each runtime's transcript must equal the expected one, so teemate's
# equals runc's. Needs root and busybox; runc where installed.
. "$(dirname "$0")/lib.sh"
json_field() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

# ---- without containers ----
expect_ok "events --help" "$TEEMATE" events --help
grep -q -- "--interval DURATION" "$WORK/out" && ok "events --help shows --interval" || not_ok "events --help shows --interval"
expect_fail "events without an ID" "expects a container ID" "$TEEMATE" events
expect_fail "events --interval without a unit" 'invalid value "5" for flag -interval: parse error' "$TEEMATE" events --interval 5 x
expect_fail "events --interval 1x" 'invalid value "1x" for flag -interval' "$TEEMATE" events --interval 1x x
expect_fail "events --interval ''" 'invalid value "" for flag -interval' "$TEEMATE" events --interval '' x

if [ "$(id -u)" -ne 0 ]; then skip "events of containers" "needs root"; finish; fi
if ! command -v busybox >/dev/null; then skip "events of containers" "needs busybox (busybox-static)"; finish; fi
if [ -d /sys/fs/cgroup/memory ]; then echo "# cgroup v1 memory controller: OOM by the memory.oom_control eventfd"
else echo "# cgroup v2 memory controller: OOM by inotify on memory.events"; fi

oci_runtimes
trap oci_delete_all EXIT

# The error a command gave, without the runtime's framing ("teemate: MSG",
# "teemate VERB: MSG (see ...)" or runc's logrus line); runc says "container
# does not exist" where teemate names it, as for the other verbs.
said() {
    grep -v '^Incorrect Usage\|^$\|^ \|^[A-Z]*:$' "$1" | sed -E 's/^teemate( events)?: //; s/ \(see .*\)$//
        s/^time="[^"]*" level=error msg="(.*)"$/\1/; s/\\"/"/g
        s/container "[^"]*" does not exist/container does not exist/' | head -1
}
step() {
    local label=$1; shift
    "${rt[@]}" "$@" >"$WORK/step.out" 2>"$WORK/step.err"; local rc=$?
    # usage errors: runc exits 1, teemate 2 (as for every verb)
    [ "$label" = "bad --interval" ] && rc=$((rc != 0))
    echo "$label: $rc $(said "$WORK/step.err")"
}
status() { "${rt[@]}" state "$1" 2>/dev/null | json_field 'd["status"]' 2>/dev/null || echo gone; }
wait_status() { for _ in $(seq 50); do [ "$(status "$1")" = "$2" ] && return 0; sleep 0.1; done; return 1; }
# wait_lines FILE PATTERN N: until FILE has N lines matching PATTERN (10 s at most).
wait_lines() { for _ in $(seq 100); do [ "$(grep -c "$2" "$1")" -ge "$3" ] && return 0; sleep 0.1; done; return 1; }
# wait_gone PID: until the process has exited (10 s at most).
wait_gone() { for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; return 1; }

# The container's shell waits for /tmp/go, then a subshell doubles a string
# until the 16 MiB limit's OOM killer takes it; the shell lives on.
scenario() {
    local id=ev-E-$$ b=$WORK/bundle-$1 ev=$WORK/ev-$1
    mkdir -p "$b"; cp -a "$WORK/rootfs" "$b/"
    cp "$WORK/config.json" "$b/"
    step "events of a missing container" events "$id"
    "${rt[@]}" create -b "$b" "$id" </dev/null >/dev/null 2>&1 && "${rt[@]}" start "$id" || echo "create/start failed"
    wait_status "$id" running
    step "--interval 0" events --interval 0 "$id"
    step "--interval -1s" events --interval -1s "$id"
    step "bad --interval" events --interval 1fortnight "$id"
    "${rt[@]}" events --stats "$id" >"$WORK/stats.json"
    echo "--stats: $(json_field 'd["type"], d["id"] == "'"$id"'", d["data"]["cpu"]["usage"]["total"] > 0,
        sorted(d["data"]["memory"]["usage"]), d["data"]["memory"]["usage"]["limit"], d["data"]["pids"]["current"] >= 1' \
        <"$WORK/stats.json")"
    # the stream, each line stamped as it arrives; its exit status in $ev.rc
    { "${rt[@]}" events --interval 200ms "$id"; echo $? >"$ev.rc"; } |
        while IFS= read -r line; do echo "$(date +%s%N) $line"; done >"$ev" &
    local reader=$!
    wait_lines "$ev" '"stats"' 2 || echo "fewer than two stats lines in 10 s"
    sed -n 1,2p "$ev" >"$ev.two"
    python3 - "$ev.two" "$id" <<'PY'
import json, sys
rows = [l.split(" ", 1) for l in open(sys.argv[1])]
t = [int(r[0]) for r in rows]; d = [json.loads(r[1]) for r in rows]
print("two stats lines:", [e["type"] for e in d], all(e["id"] == sys.argv[2] for e in d),
      "gap >= 150ms and < 3s:", 150e6 <= t[1] - t[0] < 3e9,
      "cpu total not decreasing:", d[0]["data"]["cpu"]["usage"]["total"] <= d[1]["data"]["cpu"]["usage"]["total"],
      "usage fields:", all(sorted(e["data"]["memory"]["usage"]) == ["failcnt", "limit", "max", "usage"] and
                           "current" in e["data"]["pids"] for e in d))
PY
    echo "oom before the allocation: $(grep -c '"oom"' "$ev")"
    touch "$b/rootfs/tmp/go"
    wait_lines "$ev" '"oom"' 1 && echo "oom line: $(grep -m1 '"oom"' "$ev" | cut -d' ' -f2-)" || echo "no oom line in 10 s"
    echo "container still running: $(status "$id")"
    # SIGTERM and SIGINT end a second stream (with the signal's status)
    "${rt[@]}" events --interval 200ms "$id" >/dev/null 2>&1 & local p=$!
    sleep 0.3; kill -TERM $p; wait $p; echo "SIGTERM: $?"
    env --default-signal=INT "${rt[@]}" events --interval 200ms "$id" >/dev/null 2>&1 & p=$!
    sleep 0.3; kill -INT $p; wait $p; echo "SIGINT: $?"
    "${rt[@]}" kill "$id" KILL; wait_status "$id" stopped
    step "events of a stopped container" events "$id"
    step "--stats of a stopped container" events --stats "$id"
    "${rt[@]}" delete "$id"
    local rc=; for _ in $(seq 100); do rc=$(cat "$ev.rc" 2>/dev/null); [ -n "$rc" ] && break; sleep 0.1; done
    echo "stream after delete: ${rc:-still running}"
    wait_gone "$reader" || kill "$reader"
}

"$(dirname "$0")/../../scripts/make-rootfs.sh" "$WORK/rootfs"
mkdir -p "$WORK/spec"; "$TEEMATE" spec -b "$WORK/spec"
python3 - "$WORK/spec/config.json" "$WORK/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["root"]["readonly"] = False
c["process"]["args"] = ["sh", "-c", "while [ ! -e /tmp/go ]; do usleep 10000; done; "
                        "(x=0123456789abcdef; while :; do x=$x$x; done); sleep 1000"]
c["linux"].setdefault("resources", {})["memory"] = {"limit": 16777216}
json.dump(c, open(sys.argv[2], "w"), indent=2)
EOF
expected="events of a missing container: 1 container does not exist
--interval 0: 1 duration interval must be greater than 0
--interval -1s: 1 duration interval must be greater than 0
bad --interval: 1 invalid value \"1fortnight\" for flag -interval: parse error
--stats: stats True True ['failcnt', 'limit', 'max', 'usage'] 16777216 True
two stats lines: ['stats', 'stats'] True gap >= 150ms and < 3s: True cpu total not decreasing: True usage fields: True
oom before the allocation: 0
oom line: {\"type\":\"oom\",\"id\":\"ev-E-$$\"}
container still running: running
SIGTERM: 143
SIGINT: 130
events of a stopped container: 1 container with id ev-E-$$ is not running
--stats of a stopped container: 1 container with id ev-E-$$ is not running
stream after delete: 0"
for r in "${runtimes[@]}"; do
    name=$(basename "$r")
    rt=("$r" --root "$WORK/root-$name")
    scenario "$name" >"$WORK/transcript-$name" 2>&1
    expect_eq "events transcript of $name" "$(cat "$WORK/transcript-$name")" "$expected"
done
if [ ${#runtimes[@]} -eq 2 ]; then
    expect_eq "teemate's transcript is runc's" "$(cat "$WORK/transcript-teemate")" "$(cat "$WORK/transcript-runc")"
fi
finish
