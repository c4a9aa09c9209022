"""User namespaces as root: several mapping ranges, setgroups left allowed for a
privileged caller, root inside mapped to an unprivileged host id, files and
devices owned correctly."""

import os

from conftest import one, parse_kv, run_cmd


def userns(bundle, uids, gids=None):
    for ns in ("pid", "ipc", "uts", "mount", "network", "user"):
        bundle.set_namespace(ns)
    bundle.linux["uidMappings"] = [{"containerID": c, "hostID": h, "size": s}
                                   for c, h, s in uids]
    bundle.linux["gidMappings"] = [{"containerID": c, "hostID": h, "size": s}
                                   for c, h, s in (gids or uids)]
    bundle.drop_mount("/sys/fs/cgroup")


TWO = [(0, 100000, 1000), (1000, 200000, 1000)]


def test_two_ranges_mapped(runtime, bundle):
    userns(bundle, TWO)
    kv = runtime.check(bundle, "ids")
    assert [m.split() for m in kv["uid_map"]] == [["0", "100000", "1000"],
                                                  ["1000", "200000", "1000"]]
    assert [m.split() for m in kv["gid_map"]] == [["0", "100000", "1000"],
                                                  ["1000", "200000", "1000"]]
    assert one(kv, "uid") == "0"
    assert one(kv, "setgroups") == "allow"


def test_user_in_second_range_is_host_id_of_second_range(runtime, bundle):
    userns(bundle, TWO)
    bundle.process["user"] = {"uid": 1500, "gid": 1500}
    bundle.set_args("sleep", "600")
    assert runtime.create(bundle).returncode == 0
    runtime.ok("start", bundle.id)
    pid = runtime.state(bundle.id)["pid"]
    # the init is `sleep` once started; its host view of the ids
    import time
    for _ in range(100):
        status = open(f"/proc/{pid}/status").read()
        uids = [l for l in status.splitlines() if l.startswith("Uid:")][0].split()[1:]
        if uids[0] != "100000":
            break
        time.sleep(0.05)
    assert uids == ["200500"] * 4, uids
    gids = [l for l in status.splitlines() if l.startswith("Gid:")][0].split()[1:]
    assert gids == ["200500"] * 4, gids


def test_setgroups_allowed_for_root_caller(runtime, bundle):
    userns(bundle, TWO)
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 1001]}
    bundle.set_args("sh", "-c", "cat /proc/self/setgroups; /checker ids")
    r = runtime.run_ok(bundle)
    assert r.stdout.splitlines()[0] == "allow", r.stdout
    kv = parse_kv(r.stdout)
    assert one(kv, "groups") == "5,1001", kv


def test_unmapped_user_refused_clearly(runtime, bundle):
    userns(bundle, TWO)
    bundle.process["user"] = {"uid": 5000, "gid": 0}
    r = runtime.run(bundle)
    assert r.returncode != 0
    assert "5000" in r.stderr, r.stderr
    runtime.assert_clean(bundle.id)


def test_rootfs_owned_by_mapped_root_and_files_created(runtime, bundle):
    userns(bundle, TWO)
    r = run_cmd(["chown", "-R", "100000:100000", bundle.rootfs])
    assert r.returncode == 0, r.stderr
    bundle.set_args("sh", "-c",
                    "stat -c 'root=%u:%g' /; touch /made-by-root; "
                    "stat -c 'null=%u:%g' /dev/null; echo x > /dev/null && echo null-ok")
    r = runtime.run_ok(bundle)
    assert "root=0:0" in r.stdout, r.stdout
    assert "null-ok" in r.stdout, r.stdout
    st = os.stat(os.path.join(bundle.rootfs, "made-by-root"))
    assert (st.st_uid, st.st_gid) == (100000, 100000)


def test_device_nodes_usable_in_userns(runtime, bundle):
    userns(bundle, TWO)
    bundle.set_args("sh", "-c", "head -c 4 /dev/zero | wc -c; head -c 4 /dev/urandom | wc -c")
    r = runtime.run_ok(bundle)
    assert r.stdout.split() == ["4", "4"], r.stdout


def test_bounding_set_in_user_namespace_init_and_exec(runtime, bundle):
    """With a user namespace the bounding set is dropped late (a new user
    namespace starts with a full one): the init and an exec'd process both
    end with the asked set."""
    userns(bundle, [(0, 100000, 65536)])
    bundle.process["capabilities"] = {k: ["CAP_KILL", "CAP_CHOWN"] for k in
                                      ("bounding", "effective", "permitted")}
    want = "%016x" % ((1 << 5) | 1)
    bundle.set_args("sleep", "600")
    try:
        assert runtime.create(bundle).returncode == 0
        runtime.ok("start", bundle.id)
        pid = runtime.state(bundle.id)["pid"]
        with open(f"/proc/{pid}/status") as f:
            assert one(parse_kv(f.read().replace(":\t", "=")), "CapBnd") == want
        kv = parse_kv(runtime.ok("exec", bundle.id, "/checker", "caps").stdout)
        assert one(kv, "cap.CapBnd") == want
    finally:
        runtime("delete", "--force", bundle.id)
    runtime.assert_clean(bundle.id)
