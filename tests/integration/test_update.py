"""update: live limits change, from flags and from a resources JSON on stdin
(zero fields mean unchanged, as Docker sends them); pause/resume freeze."""

import json

from conftest import cg_path, cgroup_mode, run_cmd
from conftest import read_text as read

LONG = ["sleep", "600"]


def started(runtime, bundle):
    bundle.set_args(*LONG)
    bundle.linux.setdefault("resources", {})["memory"] = {"limit": 64 << 20}
    bundle.linux["resources"]["pids"] = {"limit": 32}
    runtime.run_ok(bundle, "--detach")
    return bundle.id


def test_update_flags_change_live_limits(runtime, bundle):
    cid = started(runtime, bundle)
    runtime.ok("update", "--memory", "128m", "--pids-limit", "50", "--cpu-quota", "20000",
               "--cpu-period", "100000", cid)
    if cgroup_mode() == "unified":
        assert read(cg_path("memory", cid, "memory.max")) == str(128 << 20)
        assert read(cg_path("pids", cid, "pids.max")) == "50"
        assert read(cg_path("cpu", cid, "cpu.max")) == "20000 100000"
    else:
        assert read(cg_path("memory", cid, "memory.limit_in_bytes")) == str(128 << 20)
        assert read(cg_path("pids", cid, "pids.max")) == "50"
        assert read(cg_path("cpu", cid, "cpu.cfs_quota_us")) == "20000"
    # the container itself sees the new limit
    r = runtime.ok("exec", cid, "cat", "/proc/self/cgroup")
    assert r.returncode == 0


def test_update_resources_stdin_zero_means_unchanged(runtime, bundle):
    cid = started(runtime, bundle)
    shares_file = cg_path("cpu", cid, "cpu.weight" if cgroup_mode() == "unified" else "cpu.shares")
    shares_before = read(shares_file)
    doc = {"memory": {"limit": 96 << 20, "reservation": 0, "swap": 192 << 20, "kernel": 0},
           "cpu": {"shares": 0, "quota": 25000, "period": 100000},
           "pids": {"limit": 40}, "blockIO": {"weight": 0}}
    r = run_cmd(runtime.argv("update", "--resources", "-", cid), input=json.dumps(doc))
    assert r.returncode == 0, r.stderr
    assert read(shares_file) == shares_before
    assert read(cg_path("pids", cid, "pids.max")) == "40"
    if cgroup_mode() != "unified":
        assert read(cg_path("memory", cid, "memory.limit_in_bytes")) == str(96 << 20)
        assert read(cg_path("cpu", cid, "cpu.cfs_quota_us")) == "25000"


def test_update_refuses_bad_values(runtime, bundle):
    cid = started(runtime, bundle)
    r = runtime("update", "--memory", "lots", cid)
    assert r.returncode != 0 and "--memory" in r.stderr
    r = run_cmd(runtime.argv("update", "--resources", "-", cid),
                input='{"memory":{"limit":"x"}}')
    assert r.returncode != 0 and "memory.limit" in r.stderr


def test_update_unknown_container(runtime):
    r = runtime("update", "--memory", "64m", "t-nosuch00")
    assert r.returncode != 0 and "t-nosuch00" in r.stderr


def test_pause_freezes_and_resume_thaws(runtime, bundle):
    cid = started(runtime, bundle)
    pid = runtime.state(cid)["pid"]
    runtime.ok("pause", cid)
    assert runtime.status(cid) == "paused"
    with open(f"/proc/{pid}/status") as f:
        # a frozen task sleeps in the freezer (state D or S with frozen flag)
        state_line = [l for l in f if l.startswith("State:")][0]
    if cgroup_mode() != "unified":
        assert read(cg_path("freezer", cid, "freezer.state")) == "FROZEN"
    assert state_line
    r = runtime("exec", cid, "true")
    assert r.returncode != 0 and "paused" in r.stderr
    runtime.ok("resume", cid)
    assert runtime.status(cid) == "running"
    if cgroup_mode() != "unified":
        assert read(cg_path("freezer", cid, "freezer.state")) == "THAWED"
    r = runtime("resume", cid)
    assert r.returncode != 0
