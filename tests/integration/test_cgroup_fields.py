"""Every linux.resources field reaches its cgroup file with the conversions
runc and crun use (shares -> weight, v2 swap = memory+swap - memory, -1 ->
max, blkio weight -> io weight), on v1/hybrid here and on v2 in the VM; the
fields the host cannot honour are refused with an error naming them."""

import json
import os
import subprocess

import pytest

from conftest import cg_path, cgroup_mode, run_cmd, v1_controller_dir
from conftest import read_text as read

MODE = cgroup_mode()
MIB = 1024 * 1024
V1_UNLIMITED = "9223372036854771712"  # PAGE_COUNTER_MAX * 4096 as v1 prints it


@pytest.fixture
def loopdev(tmp_path):
    img = str(tmp_path / "disk.img")
    with open(img, "wb") as f:
        f.truncate(16 * MIB)
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


def test_every_field_reaches_its_file(runtime, bundle, loopdev):
    _, ma, mi = loopdev
    dev = f"{ma}:{mi}"
    res = {
        "memory": {"limit": 64 * MIB, "reservation": 32 * MIB, "swap": 128 * MIB},
        "cpu": {"shares": 512, "quota": 30000, "period": 100000, "burst": 1000,
                "cpus": "0", "mems": "0"},
        "pids": {"limit": 100},
        "blockIO": {
            "weight": 500,
            "throttleReadBpsDevice": [{"major": ma, "minor": mi, "rate": 1 * MIB}],
            "throttleWriteBpsDevice": [{"major": ma, "minor": mi, "rate": 2 * MIB}],
            "throttleReadIOPSDevice": [{"major": ma, "minor": mi, "rate": 100}],
            "throttleWriteIOPSDevice": [{"major": ma, "minor": mi, "rate": 200}],
        },
        "hugepageLimits": [{"pageSize": "2MB", "limit": 4 * MIB}],
    }
    if MODE != "unified":
        res["memory"]["swappiness"] = 10
        res["memory"]["disableOOMKiller"] = True
    bundle.linux["resources"] = res
    bundle.set_args("sleep", "600")
    r = runtime.create(bundle)
    assert r.returncode == 0, r.stderr
    cid = bundle.id
    runtime.state(cid)
    f = lambda ctrl, name: read(cg_path(ctrl, cid, name))  # noqa: E731
    if MODE == "unified":
        assert f("memory", "memory.max") == str(64 * MIB)
        assert f("memory", "memory.low") == str(32 * MIB)
        if os.path.exists(cg_path("memory", cid, "memory.swap.max")):
            assert f("memory", "memory.swap.max") == str(64 * MIB)  # 128M - 64M
        assert f("cpu", "cpu.weight") == "20"  # 1 + (512 - 2) * 9999 / 262142
        assert f("cpu", "cpu.max") == "30000 100000"
        assert f("cpu", "cpu.max.burst") == "1000"
        # BFQ keeps the blkio range; io.weight gets 1 + (500 - 10) * 9999 / 990 = 4950
        if os.path.exists(cg_path("io", cid, "io.bfq.weight")):
            assert "500" in f("io", "io.bfq.weight").split()
        else:
            assert f("io", "io.weight") == "default 4950"
        assert f"{dev} rbps={MIB} wbps={2 * MIB} riops=100 wiops=200" in f("io", "io.max")
    else:
        assert f("memory", "memory.limit_in_bytes") == str(64 * MIB)
        assert f("memory", "memory.soft_limit_in_bytes") == str(32 * MIB)
        assert f("memory", "memory.memsw.limit_in_bytes") == str(128 * MIB)
        assert f("memory", "memory.swappiness") == "10"
        assert "oom_kill_disable 1" in f("memory", "memory.oom_control")
        assert f("cpu", "cpu.shares") == "512"
        assert f("cpu", "cpu.cfs_quota_us") == "30000"
        assert f("cpu", "cpu.cfs_period_us") == "100000"
        assert f("cpu", "cpu.cfs_burst_us") == "1000"
        w = "blkio.weight" if os.path.exists(cg_path("blkio", cid, "blkio.weight")) \
            else "blkio.bfq.weight"
        assert "500" in f("blkio", w).split(), f("blkio", w)
        assert f"{dev} {MIB}" in f("blkio", "blkio.throttle.read_bps_device")
        assert f"{dev} {2 * MIB}" in f("blkio", "blkio.throttle.write_bps_device")
        assert f"{dev} 100" in f("blkio", "blkio.throttle.read_iops_device")
        assert f"{dev} 200" in f("blkio", "blkio.throttle.write_iops_device")
    assert f("cpuset", "cpuset.cpus") == "0"
    assert f("cpuset", "cpuset.mems") == "0"
    assert f("pids", "pids.max") == "100"
    hp = "hugetlb.2MB.max" if MODE != "legacy" else "hugetlb.2MB.limit_in_bytes"
    assert f("hugetlb", hp) == str(4 * MIB)
    rsvd = hp.replace("2MB.", "2MB.rsvd.")
    if os.path.exists(cg_path("hugetlb", cid, rsvd)):
        assert f("hugetlb", rsvd) == str(4 * MIB)

    # -1 means unlimited: "max" on v2, the kernel's maximum (or -1) on v1
    doc = {"memory": {"limit": -1, "swap": -1}, "pids": {"limit": -1}, "cpu": {"quota": -1}}
    r = run_cmd(runtime.argv("update", "--resources", "-", cid), input=json.dumps(doc))
    assert r.returncode == 0, r.stderr
    assert f("pids", "pids.max") == "max"
    if MODE == "unified":
        assert f("memory", "memory.max") == "max"
        if os.path.exists(cg_path("memory", cid, "memory.swap.max")):
            assert f("memory", "memory.swap.max") == "max"
        assert f("cpu", "cpu.max") == "max 100000"
    else:
        assert f("memory", "memory.limit_in_bytes") == V1_UNLIMITED
        assert f("memory", "memory.memsw.limit_in_bytes") == V1_UNLIMITED
        assert f("cpu", "cpu.cfs_quota_us") == "-1"


def test_unified_written_on_v2_refused_on_v1(runtime, bundle):
    bundle.linux["resources"] = {"unified": {"memory.high": str(48 * MIB)}}
    bundle.set_args("sleep", "600")
    r = runtime.create(bundle)
    if MODE == "unified":
        assert r.returncode == 0, r.stderr
        assert read(cg_path("memory", bundle.id, "memory.high")) == str(48 * MIB)
    else:
        assert r.returncode != 0, "unified accepted on a host whose memory controller is v1"
        assert "unified" in r.stderr and "memory" in r.stderr, r.stderr
        runtime.assert_clean(bundle.id)


@pytest.mark.parametrize("res,words", [
    ({"network": {"classID": 1048577}}, ["network.classID"]),
    ({"network": {"priorities": [{"name": "eth0", "priority": 5}]}}, ["network.priorities"]),
    ({"rdma": {"mlx5_0": {"hcaHandles": 3}}}, ["rdma"]),
])
def test_unavailable_fields_are_clear_errors(runtime, bundle, res, words):
    """net_cls/net_prio are not mounted here and do not exist on v2; rdma is
    refused: each a clear error naming the field, never silently dropped."""
    if "network" in res and MODE != "unified":
        ctrl = "net_cls" if "classID" in res["network"] else "net_prio"
        if v1_controller_dir(ctrl):
            pytest.skip(f"{ctrl} is mounted on this host")
    bundle.linux["resources"] = res
    bundle.set_args("sleep", "600")
    r = runtime.create(bundle)
    assert r.returncode != 0, f"{res} accepted"
    for w in words:
        assert w in r.stderr, r.stderr
    runtime.assert_clean(bundle.id)


def test_blkio_weight_and_weight_device(runtime, bundle, loopdev):
    """blockIO.weight and weightDevice: BFQ's files (CFQ's blkio.weight went
    with Linux 5.0), which take per-device weights once the device uses BFQ."""
    dev, ma, mi = loopdev
    sched = f"/sys/block/{os.path.basename(dev)}/queue/scheduler"
    try:
        with open(sched, "w") as f:  # our own loop device
            f.write("bfq")
    except OSError as e:
        pytest.skip(f"no BFQ scheduler for {dev}: {e}")
    bundle.linux["resources"] = {"blockIO": {
        "weight": 300, "weightDevice": [{"major": ma, "minor": mi, "weight": 200}]}}
    bundle.set_args("sleep", "600")
    r = runtime.create(bundle)
    assert r.returncode == 0, r.stderr
    runtime.state(bundle.id)
    if MODE == "unified":
        text = read(cg_path("io", bundle.id, "io.bfq.weight"))
    else:
        text = read(cg_path("blkio", bundle.id, "blkio.bfq.weight")) + "\n" + \
            read(cg_path("blkio", bundle.id, "blkio.bfq.weight_device"))
    lines = [l.split() for l in text.splitlines()]
    assert ["default", "300"] in lines or ["300"] in lines, text
    assert [f"{ma}:{mi}", "200"] in lines, text


def test_kernel_memory_set_or_warned_never_silently_dropped(runtime, bundle):
    """memory.kernel/kernelTCP: written where the kernel keeps them; where it
    has no such limit (v2; v1 since Linux 6.1 accepts and drops kmem writes)
    a warning names the field, as runc ignores them too."""
    limit = 64 * MIB
    bundle.linux["resources"] = {"memory": {"limit": 128 * MIB, "kernel": limit,
                                            "kernelTCP": limit}}
    bundle.set_args("sleep", "600")
    r = runtime.create(bundle)
    assert r.returncode == 0, r.stderr
    runtime.state(bundle.id)
    for field, name in (("memory.kernel", "memory.kmem.limit_in_bytes"),
                        ("memory.kernelTCP", "memory.kmem.tcp.limit_in_bytes")):
        path = None if MODE == "unified" else cg_path("memory", bundle.id, name)
        kept = path is not None and os.path.exists(path) and read(path) == str(limit)
        warned = f"linux.resources.{field}:" in r.stderr and "ignored" in r.stderr
        assert kept != warned, (field, kept, r.stderr)
