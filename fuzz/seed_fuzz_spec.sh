#!/usr/bin/env bash
# Seeds for fuzz_spec: the default config.json, variants that reach each part
# of the parser (seccomp, mounts, resources, annotations), and runc's own
# default document when runc is installed.
set -u
out=$1
default='{
    "ociVersion": "1.0.2-dev",
    "process": {
        "terminal": true,
        "user": {"uid": 0, "gid": 0},
        "args": ["sh"],
        "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
        "cwd": "/",
        "capabilities": {
            "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
            "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
        },
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": true
    },
    "root": {"path": "rootfs", "readonly": true},
    "hostname": "teemate",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
    ],
    "linux": {
        "resources": {"devices": [{"allow": false, "access": "rwm"}]},
        "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                       {"type": "mount"}, {"type": "cgroup"}],
        "maskedPaths": ["/proc/acpi", "/proc/kcore", "/sys/firmware"],
        "readonlyPaths": ["/proc/bus", "/proc/sys"]
    }
}'
printf '%s\n' "$default" >"$out/default.json"

cat >"$out/seccomp.json" <<'JSON'
{"process": {"args": ["/bin/true"], "noNewPrivileges": true},
 "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"],
  "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
  "syscalls": [
   {"names": ["read", "write", "exit_group", "uname"], "action": "SCMP_ACT_ALLOW"},
   {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
    "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}]},
   {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
    "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
   {"names": ["dup"], "action": "SCMP_ACT_ERRNO", "errnoRet": 25,
    "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_GT"}, {"index": 0, "value": 9, "op": "SCMP_CMP_LE"}]},
   {"names": ["ptrace"], "action": "SCMP_ACT_TRACE", "errnoRet": 7},
   {"names": ["kexec_load"], "action": "SCMP_ACT_KILL_PROCESS"},
   {"names": ["reboot"], "action": "SCMP_ACT_TRAP"},
   {"names": ["mount"], "action": "SCMP_ACT_LOG"},
   {"names": ["umount2"], "action": "SCMP_ACT_KILL_THREAD"},
   {"names": ["swapon"], "action": "SCMP_ACT_KILL",
    "args": [{"index": 5, "value": 0, "op": "SCMP_CMP_NE"}, {"index": 1, "value": 3, "op": "SCMP_CMP_LT"},
             {"index": 2, "value": 3, "op": "SCMP_CMP_GE"}]}]}}}
JSON

cat >"$out/mounts.json" <<'JSON'
{"process": {"args": ["sh"], "cwd": "/work"},
 "root": {"path": "/var/lib/containers/storage/overlay/abc/merged"},
 "mounts": [
  {"destination": "/etc/hosts", "type": "bind", "source": "/run/abc/hosts", "options": ["rbind", "rprivate", "ro"]},
  {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
   "options": ["rw", "rprivate", "nosuid", "nodev", "tmpcopyup", "size=64m", "mode=1777"]},
  {"destination": "/data", "source": "/srv", "options": ["bind", "ro", "rw", "slave", "copy-symlink", "defaults", ""]},
  {"destination": "/x", "type": "ext4", "source": "/dev/sda1",
   "options": ["sync", "async", "dirsync", "remount", "mand", "nomand", "atime", "noatime", "diratime",
               "nodiratime", "relatime", "norelatime", "strictatime", "nostrictatime", "suid", "dev", "exec",
               "shared", "rshared", "unbindable", "runbindable", "rslave", "private", "acl", "noacl",
               "lazytime", "nolazytime", "iversion", "noiversion", "silent", "loud", "errors=remount-ro"]}]}
JSON

cat >"$out/resources.json" <<'JSON'
{"process": {"args": ["sh"], "user": {"uid": 1000, "gid": 1000, "umask": 18, "additionalGids": [5, 10]},
  "env": ["A=1", "B="], "oomScoreAdj": 100, "apparmorProfile": "unconfined", "selinuxLabel": "x",
  "capabilities": {"inheritable": ["CAP_CHOWN"], "ambient": ["CAP_CHOWN"]},
  "rlimits": [{"type": "RLIMIT_NPROC", "hard": 100, "soft": 50}, {"type": "RLIMIT_CORE", "hard": 0, "soft": 0}]},
 "hostname": "h", "domainname": "d",
 "linux": {"namespaces": [{"type": "pid"}, {"type": "network", "path": "/run/netns/x"}, {"type": "mount"}],
  "cgroupsPath": "machine.slice:libpod:abc",
  "resources": {"memory": {"limit": 536870912, "swap": 1073741824}, "pids": {"limit": -1},
   "cpu": {"quota": 50000, "period": 100000, "shares": 512}},
  "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 8630, "uid": 0, "gid": 0},
              {"path": "/dev/fifo", "type": "p"}],
  "sysctl": {"net.ipv4.ping_group_range": "0 0"},
  "rootfsPropagation": "rslave"}}
JSON

cat >"$out/annotations.json" <<'JSON'
{"ociVersion": "1.0.0", "process": {"args": ["kv"], "terminal": false},
 "hooks": {"prestart": [], "poststop": null},
 "annotations": {"io.container.manager": "libpod", "org.teemate.enclave": "kv-store_1.0",
                 "org.teemate.enclave.memory": "64MiB"}}
JSON

printf '%s' '{"process": {"args": ["sh"]}, "linux": {"namespaces": [{"type": "user"}]}}' >"$out/user-ns.json"
printf '%s' '{"process": {"args": ["sh"]}, "hooks": {"createRuntime": [{"path": "/bin/true"}]}}' >"$out/hooks.json"

if command -v runc >/dev/null 2>&1; then
    tmp=$(mktemp -d) && (cd "$tmp" && runc spec >/dev/null 2>&1) && cp "$tmp/config.json" "$out/runc-spec.json"
    rm -rf "$tmp"
fi
exit 0
