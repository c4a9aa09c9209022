#!/bin/sh
# Run one demo container with hutch (or $HUTCH_BIN): a busybox-static rootfs,
# a config from `hutch spec`, edited to print what the container sees.
# Everything lives in a temp dir that is removed afterwards.
set -eu
cd "$(dirname "$0")/.."
HUTCH=${HUTCH_BIN:-$PWD/build/hutch}
PYTHON=${PYTHON:-python3}

if [ ! -x "$HUTCH" ]; then
	echo "demo: $HUTCH not built (run: make build)" >&2
	exit 1
fi

tmp=$(mktemp -d /tmp/hutch-demo.XXXXXX)
chmod 711 "$tmp"
id="demo-$$"
# hutch keeps its default parent cgroup (/hutch) for the next containers,
# as runc and crun keep theirs; the demo removes it again if it made it.
parents() {
	for d in /sys/fs/cgroup/hutch /sys/fs/cgroup/*/hutch; do
		[ -d "$d" ] && echo "$d"
	done
	return 0
}
before=$(parents)
cleanup() {
	"$HUTCH" --root "$tmp/state" delete --force "$id" >/dev/null 2>&1 || true
	for d in $(parents); do
		case " $(echo $before) " in *" $d "*) ;; *) rmdir "$d" 2>/dev/null || true ;; esac
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

echo "==> assembling a busybox-static rootfs in $tmp/bundle/rootfs"
sh tools/mkrootfs.sh "$tmp/bundle/rootfs"

echo "==> $HUTCH spec"
"$HUTCH" spec --bundle "$tmp/bundle"

# The script the container runs.  Limits are read from the container's own
# cgroup (a cgroup namespace with /sys/fs/cgroup mounted): v1 layout has one
# directory per controller, v2 has memory.max/pids.max at the top.
cat >"$tmp/bundle/rootfs/demo.sh" <<'SCRIPT'
echo "hostname: $(hostname)"
echo "pid=$$"
echo "mounts:"
sed 's/^/  /' /proc/self/mounts
if [ -f /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then
	mem=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
	pids=$(cat /sys/fs/cgroup/pids/pids.max)
else
	mem=$(cat /sys/fs/cgroup/memory.max)
	pids=$(cat /sys/fs/cgroup/pids.max)
fi
echo "memory limit: $mem bytes ($((mem / 1048576)) MiB)"
echo "pids limit: $pids"
SCRIPT

echo "==> editing config.json"
"$PYTHON" - "$tmp/bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
with open(path) as f:
    c = json.load(f)
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/sh", "/demo.sh"]
c["root"] = {"path": "rootfs", "readonly": False}
c["hostname"] = "hutch-demo"
linux = c.setdefault("linux", {})
res = linux.setdefault("resources", {})
res["memory"] = {"limit": 64 * 1024 * 1024}
res["pids"] = {"limit": 64}
ns = [n for n in linux.get("namespaces", []) if n["type"] != "cgroup"]
ns.append({"type": "cgroup"})
linux["namespaces"] = ns
mounts = [m for m in c.get("mounts", []) if m["destination"] != "/sys/fs/cgroup"]
mounts.append({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
               "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]})
c["mounts"] = mounts
with open(path, "w") as f:
    json.dump(c, f, indent=2)
PY

echo "==> $HUTCH run $id"
echo
set +e
"$HUTCH" --root "$tmp/state" run --bundle "$tmp/bundle" "$id"
status=$?
set -e
echo
echo "==> container exited with status $status"
exit $status
