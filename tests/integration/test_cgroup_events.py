"""events: `--stats` in runc's shape read from the container's own cgroup
files (v1 here, v2 in the VM), the stream (a stats event every --interval,
ending when the container stops) and OOM notifications: a memory hog is
OOM-killed at its limit, the OOM is reported, and the container's init, a
second container and the host are untouched."""

import json
import os
import subprocess
import tempfile

from conftest import cg_path, cgroup_mode, pid_alive, wait_for
from conftest import int_kv as kv, read_text as read, run_detached as detached

MODE = cgroup_mode()
MIB = 1024 * 1024


class Stream:
    """`hutch events` running in the background, its output in a file."""

    def __init__(self, runtime, *args):
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(runtime.argv("events", *args), stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.err)

    def lines(self):
        """The complete lines so far (a line may be mid-write)."""
        self.out.seek(0)
        text = self.out.read().decode()
        return [json.loads(l) for l in text[:text.rfind("\n") + 1].splitlines() if l.strip()]

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def test_events_stats_shape(runtime, bundle):
    cid = detached(runtime, bundle, ["sleep", "600"],
                   {"memory": {"limit": 64 * MIB}, "pids": {"limit": 20},
                    "cpu": {"quota": 50000, "period": 100000}})
    r = runtime.ok("events", "--stats", cid)
    lines = r.stdout.splitlines()
    assert len(lines) == 1, r.stdout
    ev = json.loads(lines[0])
    assert ev["type"] == "stats" and ev["id"] == cid, ev
    d = ev["data"]
    for key in ("cpu", "memory", "pids", "blkio", "hugetlb"):
        assert key in d, (key, d)
    # cpu: nanoseconds, and the same counter the kernel keeps
    assert d["cpu"]["usage"]["total"] > 0, d["cpu"]
    assert "kernel" in d["cpu"]["usage"] and "user" in d["cpu"]["usage"]
    assert isinstance(d["cpu"]["throttling"], dict)
    if MODE == "unified":
        usec = kv(read(cg_path("cpu", cid, "cpu.stat")))["usage_usec"]
        assert d["cpu"]["usage"]["total"] <= usec * 1000 + 10**9
    else:
        assert len(d["cpu"]["usage"]["percpu"]) == os.cpu_count()
        assert d["cpu"]["usage"]["total"] <= int(read(cg_path("cpuacct", cid, "cpuacct.usage")))
    # memory: the limit as the kernel reports it, usage, raw = memory.stat
    mem = d["memory"]
    assert mem["usage"]["limit"] == 64 * MIB, mem["usage"]
    assert mem["usage"]["usage"] > 0
    assert "failcnt" in mem["usage"] and "swap" in mem and "kernel" in mem
    raw = kv(read(cg_path("memory", cid, "memory.stat")))
    assert set(mem["raw"]) == set(raw), (sorted(mem["raw"]), sorted(raw))
    # pids
    assert d["pids"]["current"] >= 1 and d["pids"]["limit"] == 20, d["pids"]
    # hugetlb: one entry per page size the kernel offers
    sizes = {f.split(".")[1] for f in os.listdir(os.path.dirname(cg_path("hugetlb", cid, "x")))
             if f.startswith("hugetlb.") and (f.endswith(".max") or f.endswith(".limit_in_bytes"))
             and ".rsvd." not in f}
    assert set(d["hugetlb"]) == sizes, (d["hugetlb"], sizes)


def test_events_refused_when_stopped_unknown_or_bad_interval(runtime, bundle):
    r = runtime("events", "--stats", "t-nosuch00")
    assert r.returncode != 0 and "t-nosuch00" in r.stderr
    cid = detached(runtime, bundle, ["true"], {})
    assert runtime.wait_status(cid, "stopped") == "stopped"
    r = runtime("events", "--stats", cid)
    assert r.returncode != 0 and "not running" in r.stderr, r.stderr
    r = runtime("events", cid)
    assert r.returncode != 0 and "not running" in r.stderr, r.stderr
    r = runtime("events", "--interval", "nonsense", cid)
    assert r.returncode != 0 and "--interval" in r.stderr


def test_events_stream_ends_when_container_stops(runtime, bundle):
    cid = detached(runtime, bundle, ["sleep", "600"], {"pids": {"limit": 20}})
    s = Stream(runtime, "--interval", "200ms", cid)
    try:
        assert wait_for(lambda: len(s.lines()) >= 2, timeout=30), (s.lines(), s.stderr())
        evs = s.lines()
        assert all(e["type"] == "stats" and e["id"] == cid for e in evs), evs
        assert evs[0]["data"]["pids"]["limit"] == 20
        runtime.ok("kill", cid, "KILL")
        # the stream ends by itself once the init is gone
        s.proc.wait(timeout=20)
        assert s.proc.returncode == 0, s.stderr()
    finally:
        s.stop()


def test_oom_kill_reported_and_contained(runtime, bundle):
    """A memory hog exec'd in container A is OOM-killed at A's limit; A's
    init, container B and the host carry on; `events` reports the OOM and
    the cgroup's own counter counts it."""
    limit = 32 * MIB
    a = detached(runtime, bundle, ["sleep", "600"],
                 {"memory": {"limit": limit, "swap": limit}})
    b_bundle = runtime.new_bundle()
    b = detached(runtime, b_bundle, ["sleep", "600"], {"memory": {"limit": 64 * MIB}})
    a_pid, b_pid = runtime.state(a)["pid"], runtime.state(b)["pid"]
    s = Stream(runtime, "--interval", "200ms", a)
    try:
        # the first stats event shows the OOM watch is in place (an OOM
        # before it would be counted in the baseline, not reported)
        assert wait_for(lambda: s.lines(), timeout=30), s.stderr()
        # dd's 64 MiB buffer, filled from /dev/zero, cannot fit in 32 MiB
        r = runtime("exec", a, "dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1",
                    timeout=60)
        assert r.returncode == 137, (r.returncode, r.stdout, r.stderr)
        assert wait_for(lambda: any(e["type"] == "oom" for e in s.lines()), timeout=20), \
            (s.lines(), s.stderr())
        assert all(e == {"type": "oom", "id": a} for e in s.lines() if e["type"] == "oom")
    finally:
        s.stop()
    if MODE == "unified":
        events = kv(read(cg_path("memory", a, "memory.events")))
        assert events["oom_kill"] >= 1, events
        assert kv(read(cg_path("memory", b, "memory.events")))["oom_kill"] == 0
    else:
        ctl = kv(read(cg_path("memory", a, "memory.oom_control")))
        assert ctl["oom_kill"] >= 1, ctl
        assert kv(read(cg_path("memory", b, "memory.oom_control")))["oom_kill"] == 0
        assert int(read(cg_path("memory", a, "memory.max_usage_in_bytes"))) <= limit
    # the rest is untouched
    assert pid_alive(a_pid) and pid_alive(b_pid)
    assert runtime.status(a) == "running" and runtime.status(b) == "running"
    r = runtime.ok("exec", a, "echo", "still-here")
    assert "still-here" in r.stdout


def test_oom_kill_of_init_exits_137(runtime, bundle):
    bundle.linux["resources"] = {"memory": {"limit": 32 * MIB, "swap": 32 * MIB}}
    bundle.set_args("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
    r = runtime.run(bundle, timeout=60)
    assert r.returncode == 137, (r.returncode, r.stdout, r.stderr)


def test_events_network_interfaces_of_the_container_netns(runtime, bundle, holder):
    """network_interfaces: the container's own interfaces (not lo), null when
    it has none."""
    h = holder(["unshare", "--net", "sleep", "600"], ns="net")
    r = subprocess.run(["nsenter", "--net=" + h.ns_path("net"), "sh", "-c",
                        "ip link add hutchv0 type veth peer name hutchv1 && ip link set hutchv0 up"],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)
    assert r.returncode == 0, r.stderr
    bundle.set_namespace("network", h.ns_path("net"))
    cid = detached(runtime, bundle, ["sleep", "600"], {"pids": {"limit": 20}})
    d = json.loads(runtime.ok("events", "--stats", cid).stdout)["data"]
    nics = d["network_interfaces"]
    assert sorted(n["name"] for n in nics) == ["hutchv0", "hutchv1"], nics
    for key in ("rx_bytes", "rx_packets", "rx_errors", "rx_dropped",
                "tx_bytes", "tx_packets", "tx_errors", "tx_dropped"):
        assert isinstance(nics[0][key], int), (key, nics[0])
    other = runtime.new_bundle()
    cid2 = detached(runtime, other, ["sleep", "600"], {"pids": {"limit": 20}})
    assert json.loads(runtime.ok("events", "--stats", cid2).stdout)["data"][
        "network_interfaces"] is None


def test_oom_of_init_reported_before_the_stream_ends(runtime, bundle):
    """The stream watches a created container; once started, its init is
    OOM-killed: the oom event comes out before the stream ends."""
    bundle.linux["resources"] = {"memory": {"limit": 32 * MIB, "swap": 32 * MIB}}
    bundle.set_args("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
    r = runtime.create(bundle)
    assert r.returncode == 0, r.stderr
    runtime.state(bundle.id)
    s = Stream(runtime, "--interval", "200ms", bundle.id)
    try:
        assert wait_for(lambda: s.lines(), timeout=30), s.stderr()  # watching
        runtime.ok("start", bundle.id)
        s.proc.wait(timeout=30)
        assert s.proc.returncode == 0, s.stderr()
        assert {"type": "oom", "id": bundle.id} in s.lines(), (s.lines(), s.stderr())
    finally:
        s.stop()
    assert runtime.wait_status(bundle.id, "stopped") == "stopped"
