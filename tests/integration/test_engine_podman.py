"""Podman 4.3 (+ conmon) with hutch as its OCI runtime.

Podman runs with its own containers.conf/storage.conf in a temp dir (graph
root, run root, tmp dir, network config, event log), cgroupfs manager, and
hutch registered as runtime "hutch" with runtime_supports_json = ["hutch"] so
conmon passes --log-format=json --log FILE and shows hutch's own errors.
default_ulimits stays within this machine's limits (no CAP_SYS_RESOURCE:
hard nofile 20000, podman lowers nproc to 32768).  See /work/shared/engines.md
and tools/engines/enginelib.py.
"""

import concurrent.futures
import json
import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tools", "engines"))
import enginelib as E  # noqa: E402

# tools/deps.sh installs the engine: a missing one is a failure, not a skip.

IMAGE = "localhost/bb:latest"


class Podman:
    def __init__(self, d):
        self.dir = d
        self.hutch_root = "/run/hutch"  # podman passes no --root to the runtime
        conf = os.path.join(d, "containers.conf")
        with open(conf, "w") as f:
            f.write(f"""[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{d}/events.log"
tmp_dir = "{d}/tmp"
volume_path = "{d}/volumes"
static_dir = "{d}/root/libpod"
lock_type = "file"
runtime = "hutch"
runtime_supports_json = ["hutch"]
runtime_supports_nocgroup = ["hutch"]

[engine.runtimes]
hutch = ["{E.HUTCH}"]

[network]
network_backend = "netavark"
network_config_dir = "{d}/networks"

[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
""")
        storage = os.path.join(d, "storage.conf")
        with open(storage, "w") as f:
            f.write(f"""[storage]
driver = "overlay"
graphroot = "{d}/root"
runroot = "{d}/runroot"
""")
        self.env = dict(os.environ, CONTAINERS_CONF=conf, CONTAINERS_STORAGE_CONF=storage,
                        CONTAINERS_REGISTRIES_CONF=os.path.join(d, "registries.conf"))
        with open(os.path.join(d, "registries.conf"), "w") as f:
            f.write("unqualified-search-registries = []\n")

    def __call__(self, *args, timeout=E.CMD_TIMEOUT, input=None):
        return E.run(["podman", *args], timeout=timeout, env=self.env, input=input)

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.returncode == 0, f"podman {' '.join(args)}: rc {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def cid(self, name):
        return self.ok("inspect", "-f", "{{.Id}}", name).stdout.strip()


@pytest.fixture(scope="module")
def podman():
    d = tempfile.mkdtemp(prefix="hutch-podman-")
    snap = E.HostSnapshot(cgroup_names=["libpod_parent"], bridges=("podman0",),
                          chain_prefixes=("NETAVARK",))
    p = Podman(d)
    try:
        tar = E.busybox_rootfs_tar(d)
        p.ok("import", "--change", 'CMD=["/bin/sh"]', tar, IMAGE, timeout=120)
        yield p
    finally:
        # containers first (podman stops conmon and calls hutch delete)
        p("rm", "-a", "-f", "-t", "0", timeout=120)
        snap.clean(under=[d])
        for m in reversed(E.mountpoints()):
            if m.startswith(d):
                E.run(["umount", "-l", m], timeout=30)
        shutil.rmtree(d, ignore_errors=True)


def limits_on_host(ctrl_file, cid):
    ctrl, name = ctrl_file.split("/", 1)
    with open(os.path.join(E.CGROUP, ctrl, "libpod_parent", f"libpod-{cid}", name)) as f:
        return f.read().strip()


def test_podman_run_rm(podman):
    r = podman.ok("run", "--rm", "--network", "none", IMAGE, "echo", "hello-from-hutch")
    assert r.stdout.strip() == "hello-from-hutch"
    r = podman("run", "--rm", "--network", "none", IMAGE, "sh", "-c", "exit 42")
    assert r.returncode == 42


def test_podman_detached_exec_stop(podman):
    podman.ok("run", "-d", "--network", "none", "--name", "c-exec", IMAGE, "sleep", "300")
    try:
        r = podman.ok("exec", "c-exec", "sh", "-c", "echo exec-ok; cat /proc/1/cmdline")
        assert r.stdout.startswith("exec-ok\nsleep")
        r = podman("exec", "-u", "65534", "-w", "/tmp", "-e", "FOO=bar", "c-exec",
                   "sh", "-c", "id -u; pwd; echo $FOO; exit 3")
        assert r.returncode == 3 and r.stdout.split() == ["65534", "/tmp", "bar"]
        # sleep ignores SIGTERM as pid 1: podman escalates to SIGKILL
        podman.ok("stop", "-t", "1", "c-exec")
        st = podman.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "c-exec")
        assert st.stdout.split() == ["exited", "137"]
    finally:
        podman("rm", "-f", "-t", "0", "c-exec")


def test_podman_run_it_under_pty(podman):
    r = E.under_pty("podman run -it --rm --network none " + IMAGE +
                    " sh -c 'tty; echo TERM=$TERM; sleep 0.5; exit 4'", env=podman.env)
    assert r.returncode == 4, r.stdout + r.stderr
    assert "/dev/pts/0" in r.stdout and "TERM=xterm" in r.stdout


def test_podman_exec_it_under_pty(podman):
    podman.ok("run", "-d", "--network", "none", "--name", "c-tty", IMAGE, "sleep", "300")
    try:
        r = E.under_pty("podman exec -it c-tty sh -c 'tty; sleep 0.5; exit 6'", env=podman.env)
        assert r.returncode == 6 and "/dev/pts/" in r.stdout, r.stdout + r.stderr
    finally:
        podman("rm", "-f", "-t", "0", "c-tty")


def test_podman_pause_unpause_update_stats(podman):
    podman.ok("run", "-d", "--network", "none", "--name", "c-pause", IMAGE, "sleep", "300")
    try:
        cid = podman.cid("c-pause")
        podman.ok("pause", "c-pause")
        assert podman.ok("inspect", "-f", "{{.State.Status}}", "c-pause").stdout.strip() == "paused"
        assert limits_on_host("freezer/freezer.state", cid) == "FROZEN"
        podman.ok("unpause", "c-pause")
        assert podman.ok("inspect", "-f", "{{.State.Status}}", "c-pause").stdout.strip() == "running"
        podman.ok("update", "--memory", "128m", "--cpus", "0.25", "c-pause")
        assert limits_on_host("memory/memory.limit_in_bytes", cid) == str(128 << 20)
        assert limits_on_host("cpu/cpu.cfs_quota_us", cid) == "25000"
        r = podman.ok("stats", "--no-stream", "--format", "json", "c-pause")
        stats = json.loads(r.stdout)
        assert stats and stats[0]["name"] == "c-pause"
    finally:
        podman("rm", "-f", "-t", "0", "c-pause")


def test_podman_resource_limits(podman):
    podman.ok("run", "-d", "--network", "none", "--name", "c-lim", "--memory", "64m",
              "--pids-limit", "32", "--cpus", "0.5", IMAGE, "sleep", "300")
    try:
        cid = podman.cid("c-lim")
        assert limits_on_host("memory/memory.limit_in_bytes", cid) == str(64 << 20)
        assert limits_on_host("pids/pids.max", cid) == "32"
        assert limits_on_host("cpu/cpu.cfs_quota_us", cid) == "50000"
        assert limits_on_host("cpu/cpu.cfs_period_us", cid) == "100000"
        # inside, /sys/fs/cgroup/<ctrl> is the container's own cgroup (as with runc)
        r = podman.ok("exec", "c-lim", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes",
                      "/sys/fs/cgroup/pids/pids.max", "/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
        assert r.stdout.split() == [str(64 << 20), "32", "50000"]
        # the pids limit bites inside
        r = podman("exec", "c-lim", "sh", "-c",
                   "for i in $(seq 40); do sleep 5 & done 2>&1; echo spawned")
        assert "can't fork" in r.stdout + r.stderr
    finally:
        podman("rm", "-f", "-t", "0", "c-lim")


@pytest.mark.parametrize("net", ["none", "host", "bridge"])
def test_podman_networks(podman, net):
    r = podman.ok("run", "--rm", "--network", net, IMAGE, "sh", "-c", "ip -o -4 addr; ip route")
    addrs = [l.split()[1] for l in r.stdout.splitlines() if " inet " in l]
    if net == "none":
        assert addrs == ["lo"]
    elif net == "host":
        with open("/proc/net/dev") as f:
            host_links = {l.split(":")[0].strip() for l in f.readlines()[2:]}
        assert set(addrs) <= host_links and len(addrs) >= 1
    else:
        assert "eth0" in addrs and "10.88." in r.stdout and "default via 10.88.0.1" in r.stdout


def test_podman_error_from_hutch_reaches_user(podman):
    """hutch's refusal travels through the JSON log to podman's user: an
    RLIMIT_NOFILE above the hard limit, which only CAP_SYS_RESOURCE could raise."""
    import resource
    with open("/proc/self/status") as f:
        bnd = int(next(l for l in f if l.startswith("CapBnd:")).split()[1], 16)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if bnd & (1 << 24) or hard == resource.RLIM_INFINITY:
        pytest.skip("this host can raise RLIMIT_NOFILE: nothing for hutch to refuse")
    want = min(hard + 1000, 1 << 20)
    r = podman("run", "--rm", "--network", "none", "--ulimit", f"nofile={want}:{want}", IMAGE,
               "true")
    assert r.returncode != 0
    assert "hutch" in r.stderr and "RLIMIT_NOFILE" in r.stderr.upper(), r.stderr


def test_podman_20_concurrent_no_leaks(podman):
    before_state = set(E.hutch_state_dirs(podman.hutch_root))
    names = [f"c-par-{i}" for i in range(20)]

    def one(name):
        return podman("run", "--rm", "--network", "none", "--name", name, IMAGE,
                      "sh", "-c", f"echo {name}", timeout=180)

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as ex:
        results = list(ex.map(one, names))
    for name, r in zip(names, results):
        assert r.returncode == 0 and r.stdout.strip() == name, (name, r.stdout, r.stderr)
    assert podman.ok("ps", "-a", "-q").stdout.strip() == ""
    leaks = []
    # podman's ids are 64 hex digits (other users of /run/hutch are ignored)
    leaks += [f"hutch state {s}" for s in set(E.hutch_state_dirs(podman.hutch_root)) - before_state
              if len(s) == 64 and all(ch in "0123456789abcdef" for ch in s)]
    for h in E.cgroup_hierarchies():
        leaks += [f"cgroup {d}" for d in
                  __import__("glob").glob(os.path.join(h, "libpod_parent", "libpod-*"))]
    leaks += [f"mount {m}" for m in E.mountpoints()
              if m.startswith(podman.dir) and "/merged" in m]
    assert not leaks, leaks
