"""cgroups: limits written to the container's cgroup on this (hybrid) host,
the process placed in it, everything removed on delete."""

import glob
import os
import subprocess
import tempfile

from conftest import CGROUP_PARENT, cgroup_dirs, cgroup_mode, v1_controller_dir
from conftest import read_text as read

MODE = cgroup_mode()


def cg_file(ctrl, cid, v1name, v2name):
    """Path of a controller file for container cid on this host."""
    if MODE == "unified":
        return os.path.join("/sys/fs/cgroup", CGROUP_PARENT, cid, v2name)
    base = v1_controller_dir(ctrl)
    assert base, f"no v1 {ctrl} hierarchy"
    return os.path.join(base, CGROUP_PARENT, cid, v1name)


def created(runtime, bundle, resources):
    bundle.linux["resources"] = resources
    bundle.set_args("sleep", "600")
    r = runtime.create(bundle)
    assert r.returncode == 0, r.stderr
    return runtime.state(bundle.id)["pid"]


def test_memory_limit(runtime, bundle):
    created(runtime, bundle, {"memory": {"limit": 64 * 1024 * 1024}})
    p = cg_file("memory", bundle.id, "memory.limit_in_bytes", "memory.max")
    assert read(p) == str(64 * 1024 * 1024)


def test_memory_limit_and_swap(runtime, bundle):
    created(runtime, bundle, {"memory": {"limit": 32 * 1024 * 1024,
                                         "reservation": 16 * 1024 * 1024}})
    if MODE == "unified":
        assert read(cg_file("memory", bundle.id, "", "memory.low")) == str(16 * 1024 * 1024)
    else:
        assert read(cg_file("memory", bundle.id, "memory.soft_limit_in_bytes", "")) == \
            str(16 * 1024 * 1024)


def test_pids_limit(runtime, bundle):
    created(runtime, bundle, {"pids": {"limit": 64}})
    assert read(cg_file("pids", bundle.id, "pids.max", "pids.max")) == "64"


def test_pids_limit_enforced(runtime, bundle):
    bundle.linux["resources"] = {"pids": {"limit": 5}}
    bundle.set_args("sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; wait; echo done")
    r = runtime.run(bundle, timeout=60)
    assert "can't fork" in r.stdout + r.stderr or "Resource temporarily" in r.stdout + r.stderr


def test_cpu_shares_quota_period(runtime, bundle):
    created(runtime, bundle, {"cpu": {"shares": 512, "quota": 50000, "period": 100000}})
    if MODE == "unified":
        assert read(cg_file("cpu", bundle.id, "", "cpu.max")) == "50000 100000"
        # shares 512 -> weight 1 + ((512 - 2) * 9999) / 262142 = 20
        assert read(cg_file("cpu", bundle.id, "", "cpu.weight")) == "20"
    else:
        assert read(cg_file("cpu", bundle.id, "cpu.shares", "")) == "512"
        assert read(cg_file("cpu", bundle.id, "cpu.cfs_quota_us", "")) == "50000"
        assert read(cg_file("cpu", bundle.id, "cpu.cfs_period_us", "")) == "100000"


def test_cpuset_cpus_mems(runtime, bundle):
    created(runtime, bundle, {"cpu": {"cpus": "0", "mems": "0"}})
    assert read(cg_file("cpuset", bundle.id, "cpuset.cpus", "cpuset.cpus")) == "0"
    assert read(cg_file("cpuset", bundle.id, "cpuset.mems", "cpuset.mems")) == "0"


def test_process_placed_in_all_hierarchies(runtime, bundle):
    pid = created(runtime, bundle, {"memory": {"limit": 64 * 1024 * 1024}})
    want = f"/{CGROUP_PARENT}/{bundle.id}"
    lines = open(f"/proc/{pid}/cgroup").read().splitlines()
    by_ctrl = {}
    for line in lines:
        _, ctrls, path = line.split(":", 2)
        by_ctrl[ctrls] = path
    if MODE == "unified":
        assert by_ctrl[""] == want
    else:
        for ctrl in ("memory", "pids", "cpu", "cpuset"):
            match = [p for c, p in by_ctrl.items() if ctrl in c.split(",")]
            assert match == [want], (ctrl, lines)
        # every v1 hierarchy, named ones (name=systemd) included: the init
        # joins them itself through their tasks files
        for ctrls, path in by_ctrl.items():
            if ctrls:
                assert path == want, (ctrls, lines)
        if MODE == "hybrid":
            # hugetlb lives on the unified tree here: the container must be there too
            assert by_ctrl.get("") == want, lines
    procs = open(os.path.join(cg_file("memory", bundle.id, "", "") if MODE == "unified"
                              else os.path.dirname(cg_file("memory", bundle.id, "x", "")),
                              "cgroup.procs")).read().split()
    assert str(pid) in procs


def test_hugetlb_limit(runtime, bundle):
    created(runtime, bundle, {"hugepageLimits": [{"pageSize": "2MB", "limit": 4 * 1024 * 1024}]})
    base = "/sys/fs/cgroup/unified" if MODE == "hybrid" else "/sys/fs/cgroup"
    p = os.path.join(base, CGROUP_PARENT, bundle.id, "hugetlb.2MB.max")
    assert read(p) == str(4 * 1024 * 1024)


def test_cgroups_removed_on_delete(runtime, bundle):
    created(runtime, bundle, {"memory": {"limit": 64 * 1024 * 1024}, "pids": {"limit": 64}})
    dirs = cgroup_dirs(bundle.id)
    # one directory on pure v2, one per hierarchy on v1/hybrid
    assert len(dirs) >= (1 if cgroup_mode() == "unified" else 2), dirs
    runtime.ok("kill", bundle.id, "KILL")
    runtime.wait_status(bundle.id, "stopped")
    runtime.ok("delete", bundle.id)
    assert cgroup_dirs(bundle.id) == []
    runtime.assert_clean(bundle.id)


def v1_hierarchies():
    """The v1 hierarchy directories of this host, each once."""
    out = {}
    for d in sorted(glob.glob(os.path.join("/sys/fs/cgroup", "*"))):
        if os.path.isdir(d) and os.path.exists(os.path.join(d, "tasks")) \
                and not os.path.exists(os.path.join(d, "cgroup.controllers")):
            out.setdefault(os.path.realpath(d), d)
    return sorted(out)


def test_relative_cgroups_path(runtime, bundle):
    """A relative cgroupsPath lies below the caller's own cgroup in every
    hierarchy.  The caller (a shell that then execs hutch) first moves
    itself into a cgroup of the test's own in every v1 hierarchy, so
    nothing is made below a cgroup the test did not create.  On cgroup2
    it stays at the root: a non-root cgroup with processes cannot have
    controllers enabled for its children."""
    own = f"{CGROUP_PARENT}-rel-{bundle.id}"
    rel = f"rel/{bundle.id}"
    hiers = [] if MODE == "unified" else v1_hierarchies()
    made = []
    try:
        for h in hiers:
            d = os.path.join(h, own)
            os.mkdir(d)
            made.append(d)
            for f in ("cpuset.cpus", "cpuset.mems"):  # nothing joins without them
                if os.path.exists(os.path.join(d, f)):
                    with open(os.path.join(d, f), "w") as out:
                        out.write(read(os.path.join(h, f)))
        bundle.linux["cgroupsPath"] = rel
        bundle.linux["resources"] = {"pids": {"limit": 11}}
        bundle.set_args("sleep", "600")
        bundle.write()
        runtime.ids.append(bundle.id)
        join = "".join(f"echo $$ > {os.path.join(d, 'tasks')} && " for d in made)
        # the container keeps create's stdio: a file, not a pipe to wait on
        with tempfile.TemporaryFile("w+") as err:
            r = subprocess.run(["sh", "-c", join + 'exec "$@"', "sh",
                                *runtime.argv("create", "--bundle", bundle.path, bundle.id)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=err, timeout=30)
            err.seek(0)
            assert r.returncode == 0, err.read()
        pid = runtime.state(bundle.id)["pid"]
        placed = {}
        for line in open(f"/proc/{pid}/cgroup").read().splitlines():
            _, ctrls, path = line.split(":", 2)
            placed[ctrls] = path
        for h in hiers:
            name = os.path.basename(os.path.realpath(h))
            key = name if name != "systemd" else "name=systemd"
            assert placed.get(key) == f"/{own}/{rel}", (key, placed)
        if MODE != "legacy":
            assert placed[""] == f"/{rel}", placed  # cgroup2: below the root
        if MODE == "unified":
            pids = os.path.join("/sys/fs/cgroup", rel, "pids.max")
        else:
            pids = os.path.join(v1_controller_dir("pids"), own, rel, "pids.max")
        assert read(pids) == "11"
        runtime.ok("delete", "--force", bundle.id)
        for h in hiers:
            assert not os.path.exists(os.path.join(h, own, rel)), h
    finally:
        runtime("delete", "--force", bundle.id)
        # the parent hutch keeps (rel) in our cgroups and in the cgroup2
        # tree (whose root the caller stayed in), then our own cgroups
        v2 = {"unified": ["/sys/fs/cgroup"], "hybrid": ["/sys/fs/cgroup/unified"]}
        rmdirs = [os.path.join(d, rel) for d in made + v2.get(MODE, [])]
        rmdirs += [os.path.join(d, "rel") for d in made + v2.get(MODE, [])] + made
        for p in rmdirs:
            try:
                os.rmdir(p)
            except OSError:
                pass


def test_limits_seen_from_inside(runtime, bundle):
    bundle.linux["resources"] = {"memory": {"limit": 64 * 1024 * 1024}, "pids": {"limit": 64}}
    bundle.set_namespace("cgroup")
    bundle.drop_mount("/sys/fs/cgroup")
    bundle.add_mount("/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "ro"])
    bundle.set_args("sh", "-c",
                    "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null "
                    "|| cat /sys/fs/cgroup/memory.max; "
                    "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max")
    r = runtime.run_ok(bundle)
    assert r.stdout.split() == [str(64 * 1024 * 1024), "64"], r.stdout


def test_default_cgroups_path_outside_our_cgroup(runtime, bundle):
    """Without cgroupsPath the container must not land inside the cgroup of
    whatever manager runs the runtime (here: the test's own cgroup)."""
    del bundle.linux["cgroupsPath"]
    pid = created(runtime, bundle, {"pids": {"limit": 17}})
    own = {}
    for line in open("/proc/self/cgroup").read().splitlines():
        _, ctrls, path = line.split(":", 2)
        own[ctrls] = path
    dirs = []
    for line in open(f"/proc/{pid}/cgroup").read().splitlines():
        _, ctrls, path = line.split(":", 2)
        if own.get(ctrls, "/") != "/":
            assert not path.startswith(own[ctrls] + "/"), \
                f"{ctrls}: container cgroup {path} is inside ours ({own[ctrls]})"
        if ctrls == "pids":
            assert bundle.id in path, path
            d = os.path.join(v1_controller_dir("pids") or "/sys/fs/cgroup", path.lstrip("/"))
            assert read(os.path.join(d, "pids.max")) == "17"
        if ctrls in ("memory", "pids", "cpu") or (ctrls == "" and MODE == "unified"):
            base = v1_controller_dir(ctrls) if ctrls else "/sys/fs/cgroup"
            dirs.append(os.path.join(base, path.lstrip("/")))
    runtime.ok("delete", "--force", bundle.id)
    for d in dirs:
        assert not os.path.exists(d), f"{d} left after delete"
    # hutch keeps the shared parent (/hutch) after a delete, as runc does;
    # the test removes it (empty) so the host is as before.
    import glob
    for parent in glob.glob("/sys/fs/cgroup/*/hutch") + glob.glob("/sys/fs/cgroup/hutch"):
        try:
            os.rmdir(parent)  # only when empty
        except OSError:
            pass


def test_rdma_limit_without_rdma_device(runtime, bundle):
    """linux.resources.rdma is written to rdma.max; neither kernel here has an
    RDMA device (nor, on the hybrid host, the rdma controller), so create
    fails, naming the field and why, and leaves nothing behind.  The lines
    written are checked by tests/unit/cgroup.c (apply_rdma)."""
    bundle.linux["resources"] = {"rdma": {"mlx5_9": {"hcaHandles": 3, "hcaObjects": 100}}}
    bundle.set_args("true")
    r = runtime.run(bundle)
    assert r.returncode != 0, "an rdma limit for an absent device must fail"
    assert "linux.resources.rdma" in r.stderr, r.stderr
    has_ctrl = "rdma" in open("/proc/cgroups").read().split()
    if has_ctrl and MODE == "unified":
        assert "No such device" in r.stderr, r.stderr  # the kernel knows no mlx5_9
    else:
        assert "rdma cgroup controller is not mounted" in r.stderr, r.stderr
    runtime.assert_clean(bundle.id)
