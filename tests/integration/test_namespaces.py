"""Namespaces: each new or joined by path, and its isolation proven."""

import os
import socket

from conftest import one, pid_alive, run_cmd, wait_for

ALL = ["pid", "network", "ipc", "uts", "mount"]
NSLINK = {"pid": "pid", "network": "net", "ipc": "ipc", "uts": "uts", "mount": "mnt",
          "user": "user", "cgroup": "cgroup", "time": "time"}


def host_ns(name):
    return os.readlink(f"/proc/self/ns/{name}")


def child_of(pid):
    """First child pid of pid (for `unshare --fork` holders)."""
    path = f"/proc/{pid}/task/{pid}/children"
    assert wait_for(lambda: open(path).read().split() != [], 10)
    return int(open(path).read().split()[0])


def test_new_namespaces_differ_from_host(runtime, bundle):
    for ns in ALL:
        bundle.set_namespace(ns)
    kv = runtime.check(bundle, "ns")
    for ns in ALL:
        link = NSLINK[ns]
        assert one(kv, f"ns.{link}") != host_ns(link), f"{ns} namespace not new"


def test_pid_namespace_isolation(runtime, bundle):
    bundle.set_args("sh", "-c", "echo pid=$$; echo nprocs=$(ls /proc | grep -c '^[0-9]'); "
                    "exec sleep 600")
    r = runtime.run(bundle, "--detach")
    assert r.returncode == 0, r.stderr
    st = runtime.state(bundle.id)
    hostpid = st["pid"]
    # the host sees the container's process, under another pid
    assert hostpid != 1 and pid_alive(hostpid)
    status = open(f"/proc/{hostpid}/status").read()
    nspid = [line for line in status.splitlines() if line.startswith("NSpid:")][0].split()[1:]
    assert nspid == [str(hostpid), "1"], nspid
    assert os.readlink(f"/proc/{hostpid}/ns/pid") != host_ns("pid")


def test_pid_one_and_only_own_processes(runtime, bundle):
    bundle.set_args("sh", "-c", "echo pid=$$; ls /proc | grep '^[0-9]' > /procs")
    r = runtime.run_ok(bundle)
    assert "pid=1" in r.stdout
    pids = open(os.path.join(bundle.rootfs, "procs")).read().split()
    # sh (1), ls and grep, nothing from the host
    assert "1" in pids and len(pids) <= 4, pids


def test_pid_namespace_joined_by_path(runtime, bundle, holder):
    h = holder(["unshare", "--pid", "--fork", "sleep", "600"])
    inner = child_of(h.pid)
    target = f"/proc/{inner}/ns/pid"
    bundle.set_namespace("pid", target)
    kv = runtime.check(bundle, "ns", "pid")
    assert one(kv, "ns.pid") == os.readlink(target)
    assert one(kv, "pid") != "1"


def test_network_new_has_only_loopback_up(runtime, bundle):
    bundle.set_namespace("network")
    bundle.set_args("sh", "-c", "cat /proc/net/dev; echo ROUTES; cat /proc/net/route; "
                    "echo FLAGS; cat /sys/class/net/lo/flags; echo LINKS; ls /sys/class/net")
    r = runtime.run_ok(bundle)
    devpart, rest = r.stdout.split("ROUTES")
    routes, rest = rest.split("FLAGS")
    flags, links = rest.split("LINKS")
    ifaces = [line.split(":")[0].strip() for line in devpart.splitlines() if ":" in line]
    assert ifaces == ["lo"], ifaces
    assert links.split() == ["lo"]
    assert int(flags.strip(), 16) & 0x1, "lo is not UP"
    assert len([line for line in routes.strip().splitlines() if line.strip()]) <= 1, routes


def test_network_joined_by_path(runtime, bundle, holder):
    h = holder(["unshare", "--net", "sleep", "600"], ns="net")
    bundle.set_namespace("network", h.ns_path("net"))
    kv = runtime.check(bundle, "ns")
    assert one(kv, "ns.net") == os.readlink(h.ns_path("net"))
    assert one(kv, "ns.net") != host_ns("net")


def test_ipc_isolation(runtime, bundle, checker_bin):
    host_key = 0x48555444
    r = run_cmd([checker_bin, "shm", "%x" % host_key])
    assert r.returncode == 0, r.stdout
    try:
        bundle.set_namespace("ipc")
        bundle.set_args("sh", "-c", "/checker shm 48555443 && cat /proc/sysvipc/shm")
        r = runtime.run_ok(bundle)
        inside_keys = [line.split()[0] for line in r.stdout.splitlines()[2:]]
        assert str(0x48555443) in inside_keys, r.stdout
        assert str(host_key) not in inside_keys, "host shm visible in container"
        host_keys = [line.split()[0] for line in open("/proc/sysvipc/shm").read().splitlines()[1:]]
        assert str(0x48555443) not in host_keys, "container shm visible on host"
    finally:
        run_cmd(["ipcrm", "-M", "0x%x" % host_key])


def test_ipc_joined_by_path(runtime, bundle, holder):
    h = holder(["unshare", "--ipc", "sleep", "600"], ns="ipc")
    bundle.set_namespace("ipc", h.ns_path("ipc"))
    bundle.set_args("/checker", "shm", "48555445")
    runtime.run_ok(bundle)
    r = run_cmd(["nsenter", f"--ipc={h.ns_path('ipc')}", "cat", "/proc/sysvipc/shm"])
    assert str(0x48555445) in r.stdout, r.stdout


def test_uts_hostname_and_domainname(runtime, bundle):
    bundle.set_namespace("uts")
    bundle.config["hostname"] = "box-one"
    bundle.config["domainname"] = "example.test"
    kv = runtime.check(bundle, "hostname")
    assert one(kv, "hostname") == "box-one"
    assert one(kv, "domainname") == "example.test"
    assert socket.gethostname() != "box-one"


def test_uts_joined_by_path(runtime, bundle, holder):
    h = holder(["unshare", "--uts", "sh", "-c", "hostname held-uts; exec sleep 600"], ns="uts")
    assert wait_for(lambda: run_cmd(["nsenter", f"--uts={h.ns_path('uts')}", "hostname"])
                    .stdout.strip() == "held-uts")
    bundle.set_namespace("uts", h.ns_path("uts"))
    bundle.config.pop("hostname", None)
    kv = runtime.check(bundle, "hostname", "ns")
    assert one(kv, "hostname") == "held-uts"
    assert one(kv, "ns.uts") == os.readlink(h.ns_path("uts"))


def test_mount_namespace_private(runtime, bundle):
    bundle.set_namespace("mount")
    bundle.add_mount("/mnt", "tmpfs", "tmpfs", ["nosuid", "size=1m"])
    bundle.set_args("sleep", "600")
    assert runtime.create(bundle).returncode == 0
    pid = runtime.state(bundle.id)["pid"]
    inside = open(f"/proc/{pid}/mountinfo").read()
    assert any(line.split()[4] == "/mnt" for line in inside.splitlines()), inside
    host = open("/proc/self/mountinfo").read()
    assert bundle.rootfs not in host, "container mounts leaked to the host namespace"
    assert os.readlink(f"/proc/{pid}/ns/mnt") != host_ns("mnt")


def userns_bundle(bundle):
    for ns in ("pid", "ipc", "uts", "mount", "network", "user"):
        bundle.set_namespace(ns)
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.drop_mount("/sys/fs/cgroup")


def test_user_namespace_mappings(runtime, bundle):
    userns_bundle(bundle)
    kv = runtime.check(bundle, "ids", "ns")
    assert one(kv, "uid") == "0"
    assert one(kv, "uid_map").split() == ["0", "100000", "65536"]
    assert one(kv, "gid_map").split() == ["0", "100000", "65536"]
    assert one(kv, "ns.user") != host_ns("user")


def test_user_namespace_host_view(runtime, bundle):
    userns_bundle(bundle)
    bundle.set_args("sleep", "600")
    assert runtime.create(bundle).returncode == 0
    pid = runtime.state(bundle.id)["pid"]
    status = open(f"/proc/{pid}/status").read()
    uids = [line for line in status.splitlines() if line.startswith("Uid:")][0].split()[1:]
    assert uids == ["100000"] * 4, uids


def test_user_namespace_joined_by_path(runtime, bundle, holder):
    h = holder(["unshare", "--user", "sleep", "600"], ns="user")
    # root in the parent namespace may write any mapping for it
    with open(f"/proc/{h.pid}/uid_map", "w") as f:
        f.write("0 100000 65536\n")
    with open(f"/proc/{h.pid}/gid_map", "w") as f:
        f.write("0 100000 65536\n")
    for ns in ("pid", "ipc", "uts", "mount", "network"):
        bundle.set_namespace(ns)
    bundle.set_namespace("user", h.ns_path("user"))
    bundle.drop_mount("/sys/fs/cgroup")
    kv = runtime.check(bundle, "ids", "ns")
    assert one(kv, "ns.user") == os.readlink(h.ns_path("user"))
    assert one(kv, "uid_map").split() == ["0", "100000", "65536"]


def test_cgroup_namespace_new(runtime, bundle):
    bundle.set_namespace("cgroup")
    kv = runtime.check(bundle, "ns", "cgroup")
    assert one(kv, "ns.cgroup") != host_ns("cgroup")
    for line in kv["cgroup"]:
        path = line.split(":", 2)[2]
        assert "hutch-test" not in path, f"cgroup path not virtualised: {line}"


def test_cgroup_namespace_host(runtime, bundle):
    bundle.drop_namespace("cgroup")
    kv = runtime.check(bundle, "ns", "cgroup")
    assert one(kv, "ns.cgroup") == host_ns("cgroup")
    # the memory hierarchy on v1 and hybrid hosts, the one cgroup2 line on v2
    mem = [line for line in kv["cgroup"] if ":memory:" in line] or \
        [line for line in kv["cgroup"] if line.startswith("0::")]
    assert mem and mem[0].endswith(f"/hutch-test/{bundle.id}"), kv["cgroup"]


def test_cgroup_namespace_joined_by_path(runtime, bundle, holder):
    h = holder(["unshare", "--cgroup", "sleep", "600"], ns="cgroup")
    bundle.set_namespace("cgroup", h.ns_path("cgroup"))
    kv = runtime.check(bundle, "ns")
    assert one(kv, "ns.cgroup") == os.readlink(h.ns_path("cgroup"))


def host_uptime():
    return float(open("/proc/uptime").read().split()[0])


def test_time_namespace_offsets(runtime, bundle):
    off = 10 * 86400
    bundle.set_namespace("time")
    bundle.linux["timeOffsets"] = {"boottime": {"secs": off, "nanosecs": 0},
                                   "monotonic": {"secs": off, "nanosecs": 0}}
    bundle.set_args("sh", "-c", "cat /proc/uptime; cat /proc/self/timens_offsets")
    before = host_uptime()
    r = runtime.run_ok(bundle)
    after = host_uptime()
    lines = r.stdout.splitlines()
    inside = float(lines[0].split()[0])
    assert before + off - 1 <= inside <= after + off + 1, (before, inside, after)
    offsets = {line.split()[0]: line.split()[1] for line in lines[1:] if line.strip()}
    assert offsets.get("monotonic") == str(off) and offsets.get("boottime") == str(off), offsets


def test_time_namespace_joined_by_path(runtime, bundle, holder):
    off = 5 * 86400
    h = holder(["unshare", "--time", "--fork", f"--boottime={off}", "sleep", "600"])
    inner = child_of(h.pid)
    target = f"/proc/{inner}/ns/time"
    bundle.set_namespace("time", target)
    bundle.set_args("cat", "/proc/uptime")
    r = runtime.run_ok(bundle)
    assert float(r.stdout.split()[0]) >= host_uptime() + off - 5


def test_duplicate_namespace_refused(runtime, bundle):
    bundle.linux["namespaces"] = bundle.linux["namespaces"] + [{"type": "uts"}]
    r = runtime.run(bundle)
    assert r.returncode != 0
    assert r.stderr.strip()
    runtime.assert_clean(bundle.id)


def test_namespace_path_of_wrong_type_refused(runtime, bundle, holder):
    h = holder(["unshare", "--net", "sleep", "600"], ns="net")
    bundle.set_namespace("ipc", h.ns_path("net"))
    r = runtime.run(bundle)
    assert r.returncode != 0
    assert r.stderr.strip()
    runtime.assert_clean(bundle.id)


def test_posix_shm_and_mqueue_are_own(runtime, bundle):
    name = "hutch-test-" + bundle.id
    host_file = os.path.join("/dev/shm", name)
    open(host_file, "w").close()
    try:
        bundle.set_namespace("ipc")
        bundle.set_args("sh", "-c", "ls -a /dev/shm; echo MQ; ls -a /dev/mqueue; "
                        "touch /dev/shm/inner-" + bundle.id)
        r = runtime.run_ok(bundle)
        shm, mq = r.stdout.split("MQ")
        assert name not in shm.split(), "host POSIX shm visible in the container"
        assert not os.path.exists("/dev/shm/inner-" + bundle.id), "container shm on host"
    finally:
        os.unlink(host_file)
