"""cgroup limits proven by behaviour, on v1/hybrid here and on pure v2 in the
VM (make check-cgroupv2): a fork bomb stops at pids.max and `delete --force`
still cleans up; a CPU spinner with a 50% quota stays near 50% by the
cgroup's own usage counter; an io throttle limits direct-I/O dd on a loop
device; a denied device cannot be opened (EPERM) while an allowed one can;
`update` changes a live limit that then bites; `ps --format json` lists every
process and `kill --all` reaches every one."""

import json
import os
import subprocess
import time

import pytest

from conftest import cg_path, cgroup_mode, pid_alive, wait_for
from conftest import int_kv as kv, read_text as read, run_detached as detached

MODE = cgroup_mode()
MIB = 1024 * 1024


@pytest.fixture
def loopdev(tmp_path):
    """A loop device over a 32 MiB file this test owns: (path, major, minor)."""
    img = str(tmp_path / "disk.img")
    with open(img, "wb") as f:
        f.truncate(32 * MIB)
    r = subprocess.run(["losetup", "-f", "--show", img], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=30)
    assert r.returncode == 0, f"losetup: {r.stderr}"
    dev = r.stdout.strip()
    st = os.stat(dev)
    try:
        yield dev, os.major(st.st_rdev), os.minor(st.st_rdev)
    finally:
        subprocess.run(["losetup", "-d", dev], capture_output=True, stdin=subprocess.DEVNULL,
                       timeout=30)


# ---- pids ------------------------------------------------------------------


def test_fork_bomb_stops_at_pids_max_and_force_delete_cleans(runtime, bundle):
    limit = 16
    # The bomb runs in a subshell: ash gives up on "can't fork", and the
    # sleeps it left behind stay in the container under the init.
    cid = detached(runtime, bundle,
                   ["sh", "-c", "(i=0; while [ $i -lt 40 ]; do sleep 300 & i=$((i+1)); done) "
                                "2>/forks.err; echo spawned >/forks.done; exec sleep 600"],
                   {"pids": {"limit": limit}})
    err_file = os.path.join(bundle.rootfs, "forks.err")
    assert wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "forks.done")),
                    timeout=60)
    assert "can't fork" in read(err_file), read(err_file)
    assert int(read(cg_path("pids", cid, "pids.max"))) == limit
    current = int(read(cg_path("pids", cid, "pids.current")))
    # full up to the limit (less the subshell that gave up), never beyond
    assert limit - 2 <= current <= limit, current
    events = kv(read(cg_path("pids", cid, "pids.events")))
    assert events.get("max", 0) >= 1, events
    pids = json.loads(runtime.ok("ps", "--format", "json", cid).stdout)
    assert len(pids) == current, (pids, current)
    runtime.ok("delete", "--force", cid)
    assert not any(pid_alive(p) for p in pids), [p for p in pids if pid_alive(p)]
    runtime.assert_clean(cid)


def test_update_lower_pids_limit_takes_effect(runtime, bundle):
    cid = detached(runtime, bundle, ["sleep", "600"], {"pids": {"limit": 32}})
    probe = ["exec", cid, "sh", "-c", "sleep 0.1 & sleep 0.1 & sleep 0.1 & wait; echo forked"]
    r = runtime(*probe, timeout=60)
    assert r.returncode == 0 and "forked" in r.stdout, (r.stdout, r.stderr)
    runtime.ok("update", "--pids-limit", "3", cid)
    assert read(cg_path("pids", cid, "pids.max")).strip() == "3"
    r = runtime(*probe, timeout=60)
    assert "forked" not in r.stdout, r.stdout
    assert "can't fork" in r.stderr or r.returncode != 0, (r.returncode, r.stderr)
    assert kv(read(cg_path("pids", cid, "pids.events"))).get("max", 0) >= 1
    runtime.ok("update", "--pids-limit", "32", cid)
    r = runtime(*probe, timeout=60)
    assert r.returncode == 0 and "forked" in r.stdout, (r.stdout, r.stderr)


# ---- cpu -------------------------------------------------------------------


def cpu_usage_ns(cid):
    if MODE == "unified":
        return kv(read(cg_path("cpu", cid, "cpu.stat")))["usage_usec"] * 1000
    return int(read(cg_path("cpuacct", cid, "cpuacct.usage")))


def test_cpu_quota_half_a_cpu(runtime, bundle):
    cid = detached(runtime, bundle, ["sh", "-c", "while :; do :; done"],
                   {"cpu": {"quota": 50000, "period": 100000}})
    time.sleep(0.5)  # let the spinner get going
    u0, t0 = cpu_usage_ns(cid), time.monotonic()
    time.sleep(2.0)
    u1, t1 = cpu_usage_ns(cid), time.monotonic()
    share = (u1 - u0) / ((t1 - t0) * 1e9)
    # the quota allows 50 ms per 100 ms period; one period of slack either side
    assert share <= 0.55 + 0.05, f"spinner used {share:.2f} of a CPU with a 50% quota"
    assert share > 0.1, f"spinner used only {share:.2f} of a CPU: not measured"
    thr = json.loads(runtime.ok("events", "--stats", cid).stdout)["data"]["cpu"]["throttling"]
    assert thr.get("throttledPeriods", 0) > 0, thr


# ---- io --------------------------------------------------------------------


def test_io_throttle_limits_direct_dd(runtime, bundle, loopdev):
    dev, major, minor = loopdev
    rate = 2 * MIB
    bundle.linux.setdefault("devices", []).append(
        {"path": "/dev/hutchdisk", "type": "b", "major": major, "minor": minor,
         "fileMode": 0o660, "uid": 0, "gid": 0})
    bundle.linux["resources"] = {
        "blockIO": {"throttleWriteBpsDevice": [{"major": major, "minor": minor, "rate": rate}]}}
    bundle.set_args("sleep", "600")
    runtime.run_ok(bundle, "--detach")
    cid = bundle.id
    runtime.state(cid)
    if MODE == "unified":
        assert f"{major}:{minor} rbps=max wbps={rate}" in read(cg_path("io", cid, "io.max"))
    else:
        assert f"{major}:{minor} {rate}" in read(
            cg_path("blkio", cid, "blkio.throttle.write_bps_device"))
    # dd writes 10 MiB with O_DIRECT (5 s at the limit); the rate is taken
    # from the cgroup's own io counters over a window while dd still runs
    total = 160 * 64 * 1024
    dd = subprocess.Popen(runtime.argv("exec", cid, "dd", "if=/dev/zero", "of=/dev/hutchdisk",
                                       "bs=64k", "count=160", "oflag=direct"),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: written_bytes(cid, major, minor) > 0, timeout=60)
        b0, t0 = written_bytes(cid, major, minor), time.monotonic()
        time.sleep(1.5)
        b1, t1 = written_bytes(cid, major, minor), time.monotonic()
        still_running = dd.poll() is None
        _, err = dd.communicate(timeout=120)
    finally:
        if dd.poll() is None:
            dd.kill()
            dd.wait()
    assert dd.returncode == 0, err
    assert still_running, f"dd finished within the window: not throttled ({b1 - b0} bytes)"
    got = (b1 - b0) / (t1 - t0)
    assert got <= 1.5 * rate, f"{got / MIB:.2f} MiB/s with a {rate / MIB:.0f} MiB/s limit"
    assert got > 0.2 * rate, f"{got / MIB:.2f} MiB/s: dd barely wrote"
    nbytes = total
    # the cgroup's own io accounting saw the writes (events --stats)
    blk = json.loads(runtime.ok("events", "--stats", cid).stdout)["data"]["blkio"]
    written = sum(e.get("value", 0) for e in blk.get("ioServiceBytesRecursive", [])
                  if e.get("major", 0) == major and e.get("minor", 0) == minor
                  and e.get("op") == "Write")  # zeros are omitted, as in runc
    assert written >= nbytes, blk


def written_bytes(cid, major, minor):
    """Bytes the container wrote to MAJOR:MINOR, from its cgroup's io stats."""
    if MODE == "unified":
        for line in read(cg_path("io", cid, "io.stat")).splitlines():
            f = line.split()
            if f and f[0] == f"{major}:{minor}":
                # before any I/O the line may only carry other policies' keys
                return int(dict(x.split("=", 1) for x in f[1:] if "=" in x).get("wbytes", 0))
        return 0
    for line in read(cg_path("blkio", cid,
                             "blkio.throttle.io_service_bytes_recursive")).splitlines():
        f = line.split()
        if len(f) == 3 and f[0] == f"{major}:{minor}" and f[1] == "Write":
            return int(f[2])
    return 0


# ---- devices ---------------------------------------------------------------


def test_device_rules_deny_and_allow(runtime, bundle, loopdev):
    dev, major, minor = loopdev
    # both nodes reach the container by bind mount, so only the cgroup rules
    # (v1 devices.allow/deny, v2 the eBPF filter) decide
    bundle.add_mount("/dev/loop-control", "bind", "/dev/loop-control", ["bind"])
    bundle.add_mount("/dev/hutchdisk", "bind", dev, ["bind"])
    bundle.linux["resources"] = {"devices": [
        {"allow": False, "access": "rwm"},
        {"allow": True, "type": "b", "major": major, "minor": minor, "access": "rw"},
    ]}
    bundle.set_args("sh", "-c",
                    "head -c1 /dev/loop-control && echo control-opened; "
                    "dd if=/dev/hutchdisk of=/dev/null bs=4k count=1 && echo disk-read; "
                    ": >/dev/null && echo null-ok")
    r = runtime.run(bundle, timeout=60)
    out = r.stdout + r.stderr
    assert "control-opened" not in out, out
    assert "loop-control" in r.stderr and "Operation not permitted" in r.stderr, r.stderr
    assert "disk-read" in r.stdout, out
    assert "null-ok" in r.stdout, out


# ---- ps, kill --all --------------------------------------------------------


def test_ps_json_and_kill_all_reach_every_process(runtime, bundle):
    cid = detached(runtime, bundle, ["sh", "-c", "sleep 600 & sleep 600 & wait"],
                   {"pids": {"limit": 20}})
    procs_file = cg_path("pids", cid, "cgroup.procs")
    assert wait_for(lambda: len(read(procs_file).split()) == 3, timeout=30), read(procs_file)
    pids = json.loads(runtime.ok("ps", "--format", "json", cid).stdout)
    assert sorted(pids) == sorted(int(p) for p in read(procs_file).split()), pids
    init = runtime.state(cid)["pid"]
    assert init in pids
    # a plain kill only signals the init, which ignores TERM (pid 1 of its
    # namespace without a handler): nothing dies
    runtime.ok("kill", cid, "TERM")
    time.sleep(0.3)
    assert all(pid_alive(p) for p in pids)
    # --all reaches the sleeps too; the shell then returns from wait
    runtime.ok("kill", "--all", cid, "TERM")
    assert wait_for(lambda: not any(pid_alive(p) for p in pids if p != init), timeout=20), \
        [p for p in pids if pid_alive(p)]
    assert runtime.wait_status(cid, "stopped", timeout=20) == "stopped"


def test_kill_all_sigkill_takes_everything(runtime, bundle):
    cid = detached(runtime, bundle, ["sh", "-c", "trap '' TERM; sleep 600 & sleep 600 & wait"],
                   {"pids": {"limit": 20}})
    procs_file = cg_path("pids", cid, "cgroup.procs")
    assert wait_for(lambda: len(read(procs_file).split()) == 3, timeout=30), read(procs_file)
    pids = json.loads(runtime.ok("ps", "--format", "json", cid).stdout)
    runtime.ok("kill", "--all", cid, "KILL")
    assert wait_for(lambda: not any(pid_alive(p) for p in pids), timeout=20)
    assert runtime.wait_status(cid, "stopped", timeout=20) == "stopped"
    assert read(procs_file).split() == []


# ---- pause, resume ---------------------------------------------------------


def test_pause_stops_the_cpu_clock_and_resume_restarts_it(runtime, bundle):
    cid = detached(runtime, bundle, ["sh", "-c", "while :; do :; done"],
                   {"cpu": {"quota": 20000, "period": 100000}})
    assert wait_for(lambda: cpu_usage_ns(cid) > 0, timeout=20)
    runtime.ok("pause", cid)
    assert runtime.status(cid) == "paused"
    if MODE == "unified":
        assert "frozen 1" in read(cg_path("cpu", cid, "cgroup.events"))
    else:
        assert read(cg_path("freezer", cid, "freezer.state")).strip() == "FROZEN"
    u0 = cpu_usage_ns(cid)
    time.sleep(0.5)
    assert cpu_usage_ns(cid) == u0, "a paused spinner used CPU"
    # stats still work while paused
    assert json.loads(runtime.ok("events", "--stats", cid).stdout)["type"] == "stats"
    runtime.ok("resume", cid)
    assert runtime.status(cid) == "running"
    assert wait_for(lambda: cpu_usage_ns(cid) > u0, timeout=20), "no CPU after resume"
