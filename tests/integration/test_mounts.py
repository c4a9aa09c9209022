"""Mounts: every type and option of config-linux.md / config.md mounts:
bind/rbind, tmpfs, proc, sysfs, devpts, mqueue, cgroup (v1 and v2, own
cgroup only), overlay, propagation (plain and r-forms), the recursive
mount_setattr attributes, tmpcopyup, idmapped binds, destinations created
as file or directory, order as given, bundle-relative sources; and nothing
left mounted after a failed create."""

import contextlib
import os
import subprocess

import pytest

from conftest import (CGROUP_PARENT, IS_RUNC, cgroup_mode, mounts_from, one, parse_kv,
                      run_cmd)


# `make integration-enosys` blocks these (tests/helpers/enosys.c): features
# without a fallback must then fail with a clear error instead.
ENOSYS = os.environ.get("HUTCH_TEST_ENOSYS", "").split(",")
NO_SETATTR = "mount_setattr" in ENOSYS
NO_OPEN_TREE = "open_tree" in ENOSYS


def expect_enosys(runtime, bundle, needle):
    r = runtime.run(bundle)
    assert r.returncode != 0, r.stdout
    assert needle in r.stderr, r.stderr
    runtime.assert_clean(bundle.id)


def mount_at(kv, dest):
    ms = [m for m in mounts_from(kv) if m["mountpoint"] == dest]
    assert ms, f"nothing mounted at {dest}: {kv.get('mount')}"
    return ms[-1]


@contextlib.contextmanager
def host_mount(*argv):
    """A mount on the host that this test makes and removes (argv: the
    mount(8) arguments, the mount point last)."""
    target = argv[-1]
    r = run_cmd(["mount", *argv])
    assert r.returncode == 0, r.stderr
    try:
        yield target
    finally:
        subprocess.run(["umount", "-R", "-l", target], capture_output=True)


# ---- types -----------------------------------------------------------------


def test_devpts_mqueue_sysfs_with_options(runtime, bundle):
    bundle.drop_mount("/dev/pts")
    bundle.add_mount("/dev/pts", "devpts", "devpts",
                     ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"])
    bundle.drop_mount("/sys")
    bundle.add_mount("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"])
    kv = runtime.check(bundle, "mounts")
    pts = mount_at(kv, "/dev/pts")
    assert pts["fstype"] == "devpts"
    for o in ("ptmxmode=666", "mode=620", "gid=5"):
        assert o in pts["superopts"], pts
    assert "nosuid" in pts["opts"] and "noexec" in pts["opts"]
    sysfs = mount_at(kv, "/sys")
    assert sysfs["fstype"] == "sysfs" and "ro" in sysfs["opts"]
    assert mount_at(kv, "/dev/mqueue")["fstype"] == "mqueue"


def test_proc_mount_is_the_containers(runtime, bundle):
    bundle.set_args("sh", "-c", "echo pid=$$; ls /proc | grep -c '^[0-9]'")
    r = runtime.run_ok(bundle)
    assert one(parse_kv(r.stdout), "pid") == "1"


def test_overlay(runtime, bundle, tmp_path):
    for d in ("lower", "upper", "work"):
        (tmp_path / d).mkdir()
    (tmp_path / "lower" / "from-lower").write_text("L\n")
    bundle.add_mount("/mnt/ov", "overlay", "overlay",
                     [f"lowerdir={tmp_path}/lower", f"upperdir={tmp_path}/upper",
                      f"workdir={tmp_path}/work"])
    bundle.set_args("sh", "-c", "cat /mnt/ov/from-lower; echo U > /mnt/ov/new; /checker mounts")
    r = runtime.run_ok(bundle)
    assert "L" in r.stdout.split()
    assert mount_at(parse_kv(r.stdout), "/mnt/ov")["fstype"] == "overlay"
    assert (tmp_path / "upper" / "new").read_text() == "U\n"
    assert not (tmp_path / "lower" / "new").exists()


def test_tmpfs_data_options_passed(runtime, bundle):
    bundle.add_mount("/mnt/t", "tmpfs", "tmpfs", ["size=3m", "nr_inodes=1k", "uid=7", "gid=8",
                                                  "mode=0711"])
    bundle.set_args("sh", "-c", "stat -c 'own=%u:%g perm=%a' /mnt/t; /checker mounts")
    r = runtime.run_ok(bundle)
    kv = parse_kv(r.stdout)
    m = mount_at(kv, "/mnt/t")
    assert "size=3072k" in m["superopts"] and "nr_inodes=1024" in m["superopts"], m
    assert r.stdout.count("own=7:8 perm=711") == 1, r.stdout


# ---- cgroup: only the container's own cgroup ------------------------------------


@pytest.mark.skipif(cgroup_mode() == "unified", reason="v1/hybrid host behaviour")
@pytest.mark.parametrize("cgroupns", [True, False])
def test_cgroup_v1_shows_only_own_cgroup(runtime, bundle, cgroupns):
    """Without a cgroup namespace the container still sees only its own
    cgroup: hutch stacks a bind of the container's subdirectory of each
    hierarchy on the fresh v1 mount."""
    if cgroupns:
        bundle.set_namespace("cgroup")
    else:
        bundle.drop_namespace("cgroup")
    bundle.drop_mount("/sys/fs/cgroup")
    bundle.add_mount("/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "ro"])
    bundle.linux.setdefault("resources", {})["pids"] = {"limit": 33}
    bundle.set_args("sh", "-c", "echo max=$(cat /sys/fs/cgroup/pids/pids.max); "
                    f"ls -d /sys/fs/cgroup/pids/{CGROUP_PARENT} 2>/dev/null && echo SEEN; "
                    "echo procs=$(cat /sys/fs/cgroup/pids/cgroup.procs | tr '\\n' ' '); "
                    "touch /sys/fs/cgroup/pids/x 2>/dev/null && echo WROTE; /checker mounts")
    r = runtime.run_ok(bundle)
    kv = parse_kv(r.stdout)
    assert one(kv, "max") == "33", r.stdout
    assert "SEEN" not in r.stdout and "WROTE" not in r.stdout, r.stdout
    pids = mount_at(kv, "/sys/fs/cgroup/pids")
    assert pids["fstype"] == "cgroup" and "ro" in pids["opts"], pids
    if not cgroupns:
        assert pids["root"].endswith(f"/{CGROUP_PARENT}/{bundle.id}"), pids


def test_cgroup_mount_in_cgroupns(runtime, bundle):
    bundle.set_namespace("cgroup")
    kv = runtime.check(bundle, "cgroup", "mounts")
    cg = [m for m in mounts_from(kv) if m["mountpoint"].startswith("/sys/fs/cgroup")]
    assert cg
    assert all(m["root"] == "/" for m in cg if m["fstype"] in ("cgroup", "cgroup2")), cg


# ---- bind, destinations, order, sources -----------------------------------------


def test_destination_created_as_file_or_dir(runtime, bundle, tmp_path):
    f = tmp_path / "f.txt"
    f.write_text("file\n")
    d = tmp_path / "d"
    d.mkdir()
    (d / "in-dir").write_text("dir\n")
    bundle.add_mount("/new/a/file.txt", "bind", str(f), ["bind"])
    bundle.add_mount("/new/b/dir", "bind", str(d), ["bind"])
    bundle.set_args("sh", "-c", "cat /new/a/file.txt /new/b/dir/in-dir")
    r = runtime.run_ok(bundle)
    assert r.stdout.split() == ["file", "dir"]
    assert os.path.isfile(os.path.join(bundle.rootfs, "new/a/file.txt"))
    assert os.path.isdir(os.path.join(bundle.rootfs, "new/b/dir"))


def test_order_as_given(runtime, bundle, tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "marker").write_text("bind\n")
    bundle.add_mount("/mnt/o", "tmpfs", "tmpfs", [])
    bundle.add_mount("/mnt/o", "bind", str(d), ["bind"])
    bundle.add_mount("/mnt/o/inner", "tmpfs", "tmpfs", ["size=1m"])
    bundle.set_args("sh", "-c", "cat /mnt/o/marker; /checker mounts")
    r = runtime.run_ok(bundle)
    assert "bind" in r.stdout.split()
    kv = parse_kv(r.stdout)
    at_o = [m for m in mounts_from(kv) if m["mountpoint"] == "/mnt/o"]
    assert [m["fstype"] for m in at_o][0] == "tmpfs" and len(at_o) == 2
    assert mount_at(kv, "/mnt/o/inner")["fstype"] == "tmpfs"
    assert (d / "inner").is_dir(), "the nested destination is created in the bind source"


def test_bundle_relative_bind_source(runtime, bundle):
    os.makedirs(os.path.join(bundle.path, "data"))
    with open(os.path.join(bundle.path, "data", "x"), "w") as f:
        f.write("rel\n")
    bundle.add_mount("/mnt/rel", "bind", "data", ["bind", "ro"])
    bundle.set_args("cat", "/mnt/rel/x")
    assert runtime.run_ok(bundle).stdout.strip() == "rel"


# ---- propagation ------------------------------------------------------------------


@pytest.mark.parametrize("opt,want", [
    ("private", None), ("rprivate", None), ("shared", "shared:"), ("rshared", "shared:"),
    ("unbindable", "unbindable"), ("runbindable", "unbindable"),
])
def test_propagation_on_tmpfs(runtime, bundle, opt, want):
    bundle.add_mount("/mnt/p", "tmpfs", "tmpfs", [opt])
    m = mount_at(runtime.check(bundle, "mounts"), "/mnt/p")
    opts = m["optional"]
    if want is None:
        assert not any(o.startswith(("shared:", "master:")) or o == "unbindable"
                       for o in opts), (opt, opts)
    else:
        assert any(o.startswith(want) for o in opts), (opt, opts)


@pytest.mark.parametrize("opt", ["slave", "rslave"])
def test_propagation_slave_of_shared_host_mount(runtime, bundle, tmp_path, opt):
    src = tmp_path / "shared"
    src.mkdir()
    with host_mount("-t", "tmpfs", "-o", "size=1m", "hutch-prop", str(src)):
        (src / "sub").mkdir()
        with host_mount("-t", "tmpfs", "-o", "size=1m", "hutch-prop-sub", str(src / "sub")):
            assert run_cmd(["mount", "--make-rshared", str(src)]).returncode == 0
            bundle.add_mount("/mnt/s", "bind", str(src), ["rbind", opt])
            kv = runtime.check(bundle, "mounts")
            top = mount_at(kv, "/mnt/s")["optional"]
            sub = mount_at(kv, "/mnt/s/sub")["optional"]
            assert any(o.startswith("master:") for o in top), top
            assert not any(o.startswith("shared:") for o in top), top
            if opt == "rslave":
                assert any(o.startswith("master:") for o in sub), sub
                assert not any(o.startswith("shared:") for o in sub), sub


# ---- recursive attributes (mount_setattr) ---------------------------------------


def test_recursive_attributes_reach_submounts(runtime, bundle, tmp_path):
    src = tmp_path / "rsrc"
    (src / "sub").mkdir(parents=True)
    with host_mount("-t", "tmpfs", "-o", "size=1m", "hutch-rattr", str(src / "sub")):
        bundle.add_mount("/mnt/r", "bind", str(src),
                         ["rbind", "rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow",
                          "rnoatime"])
        bundle.add_mount("/mnt/plain", "bind", str(src), ["rbind", "ro"])
        bundle.set_args("sh", "-c", "touch /mnt/r/sub/x 2>/dev/null && echo WROTE-R; "
                        "touch /mnt/plain/sub/y 2>/dev/null && echo WROTE-PLAIN; "
                        "/checker mounts")
        if NO_SETATTR:
            return expect_enosys(runtime, bundle, "needs mount_setattr")
        r = runtime.run_ok(bundle)
        kv = parse_kv(r.stdout)
        sub = mount_at(kv, "/mnt/r/sub")["opts"]
        for o in ("ro", "nosuid", "nodev", "noexec", "nosymfollow", "noatime"):
            assert o in sub, (o, sub)
        assert "WROTE-R" not in r.stdout
        # plain "ro" is not recursive: the submount stays writable
        assert "rw" in mount_at(kv, "/mnt/plain/sub")["opts"]
        assert "WROTE-PLAIN" in r.stdout
        assert "ro" in mount_at(kv, "/mnt/plain")["opts"]


def test_rrw_and_ratime_clear(runtime, bundle, tmp_path):
    src = tmp_path / "rw"
    (src / "sub").mkdir(parents=True)
    with host_mount("-t", "tmpfs", "-o", "size=1m,noatime", "hutch-rrw", str(src / "sub")):
        # read-only per mount (not the superblock), as mount_setattr can clear
        assert run_cmd(["mount", "-o", "remount,bind,ro,noatime",
                        str(src / "sub")]).returncode == 0
        bundle.add_mount("/mnt/w", "bind", str(src), ["rbind", "rrw", "rrelatime"])
        bundle.set_args("sh", "-c", "touch /mnt/w/sub/x && echo WROTE; /checker mounts")
        if NO_SETATTR:
            return expect_enosys(runtime, bundle, "needs mount_setattr")
        r = runtime.run_ok(bundle)
        sub = mount_at(parse_kv(r.stdout), "/mnt/w/sub")["opts"]
        assert "rw" in sub and "relatime" in sub, sub
        assert "WROTE" in r.stdout


# ---- tmpcopyup ----------------------------------------------------------------------


def test_tmpcopyup(runtime, bundle):
    d = os.path.join(bundle.rootfs, "opt", "app")
    os.makedirs(os.path.join(d, "sub"))
    with open(os.path.join(d, "conf"), "w") as f:
        f.write("image\n")
    os.chown(os.path.join(d, "conf"), 123, 456)
    os.chmod(os.path.join(d, "conf"), 0o644)
    os.chmod(d, 0o777)
    os.symlink("conf", os.path.join(d, "link"))
    bundle.add_mount("/opt/app", "tmpfs", "tmpfs", ["tmpcopyup", "mode=755"])
    bundle.set_args("sh", "-c", "stat -c 'c=%u:%g:%a' /opt/app/conf; cat /opt/app/link; "
                    "ls -d /opt/app/sub; echo new > /opt/app/added; /checker mounts")
    r = runtime.run_ok(bundle)
    kv = parse_kv(r.stdout)
    assert one(kv, "c") == "123:456:644"
    assert "image" in r.stdout.split() and "/opt/app/sub" in r.stdout
    assert mount_at(kv, "/opt/app")["fstype"] == "tmpfs"
    assert not os.path.exists(os.path.join(d, "added")), "tmpcopyup wrote through to the image"


# ---- idmapped mounts -------------------------------------------------------------------


@pytest.mark.skipif(IS_RUNC, reason="hutch feature flags")
@pytest.mark.parametrize("opt", ["idmap", "ridmap"])
def test_idmapped_bind(runtime, bundle, tmp_path, opt):
    src = tmp_path / "idm"
    src.mkdir()
    os.chmod(tmp_path, 0o755)
    (src / "owned-by-0").write_text("x\n")
    os.chown(src / "owned-by-0", 0, 0)
    (src / "owned-by-5").write_text("y\n")
    os.chown(src / "owned-by-5", 5, 5)
    bundle.config.setdefault("mounts", []).append({
        "destination": "/mnt/id", "type": "bind", "source": str(src),
        "options": ["rbind", opt],
        "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 10}],
        "gidMappings": [{"containerID": 0, "hostID": 2000, "size": 10}]})
    bundle.set_args("sh", "-c", "stat -c '%n=%u:%g' /mnt/id/owned-by-0 /mnt/id/owned-by-5")
    if NO_OPEN_TREE:
        return expect_enosys(runtime, bundle, "open_tree")
    r = runtime.run_ok(bundle)
    kv = parse_kv(r.stdout)
    assert one(kv, "/mnt/id/owned-by-0") == "1000:2000", r.stdout
    assert one(kv, "/mnt/id/owned-by-5") == "1005:2005", r.stdout
    assert os.stat(src / "owned-by-0").st_uid == 0, "the host files changed owner"


@pytest.mark.skipif(IS_RUNC, reason="hutch messages")
def test_idmap_on_non_bind_refused(runtime, bundle):
    bundle.config.setdefault("mounts", []).append({
        "destination": "/mnt/x", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"],
        "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
        "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]})
    r = runtime.run(bundle)
    assert r.returncode != 0 and "bind" in r.stderr, r.stderr
    runtime.assert_clean(bundle.id)


@pytest.mark.skipif(IS_RUNC, reason="hutch feature flags")
def test_features_report_idmap(runtime):
    import json
    r = runtime.ok("features")
    f = json.loads(r.stdout)
    assert f["linux"]["mountExtensions"]["idmap"]["enabled"] is True


# ---- failed creates leave nothing mounted -----------------------------------------------


def host_mounts_with(needle):
    with open("/proc/self/mountinfo") as f:
        return [l for l in f if needle in l]


@pytest.mark.parametrize("failure", ["bind-source", "fstype", "sysctl", "masked-null",
                                     "args", "hook"])
def test_failed_create_leaves_nothing_mounted(runtime, bundle, tmp_path, failure):
    good = tmp_path / "good"
    good.mkdir()
    bundle.add_mount("/mnt/good1", "bind", str(good), ["rbind"])
    bundle.add_mount("/mnt/good2", "tmpfs", "tmpfs", [])
    if failure == "bind-source":
        bundle.add_mount("/mnt/bad", "bind", str(tmp_path / "missing"), ["bind"])
    elif failure == "fstype":
        bundle.add_mount("/mnt/bad", "no-such-fs", "none", [])
    elif failure == "sysctl":
        bundle.linux["sysctl"] = {"net.ipv4.no_such_key": "1"}
    elif failure == "masked-null":
        dev = os.path.join(bundle.rootfs, "dev")
        bundle.config.setdefault("hooks", {})["createContainer"] = [
            {"path": "/bin/sh", "args": ["sh", "-c", f"rm -f {dev}/null; mkdir {dev}/null"]}]
        bundle.linux["maskedPaths"] = ["/proc/keys"]
    elif failure == "args":
        bundle.set_args("/no/such/program")
    elif failure == "hook":
        bundle.config.setdefault("hooks", {})["createRuntime"] = [
            {"path": "/bin/false", "args": ["false"]}]
    r = runtime.create(bundle)
    assert r.returncode != 0, f"{failure}: create succeeded"
    runtime.assert_clean(bundle.id)
    assert not host_mounts_with(str(good)), host_mounts_with(str(good))
    assert not os.listdir(os.path.join(bundle.rootfs, "mnt", "good2")) \
        if os.path.isdir(os.path.join(bundle.rootfs, "mnt", "good2")) else True


# ---- linux.mountLabel, /dev ----------------------------------------------------------


@pytest.mark.skipif(IS_RUNC or os.path.exists("/sys/fs/selinux/enforce"),
                    reason="hutch warning text; host without SELinux")
def test_mount_label_ignored_without_selinux(runtime, bundle):
    bundle.linux["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2"
    bundle.set_args("/checker", "mounts")
    r = runtime.run_ok(bundle)
    assert "mountLabel" in r.stderr and "SELinux" in r.stderr, r.stderr
    assert not any("context=" in o for m in mounts_from(parse_kv(r.stdout))
                   for o in m["superopts"])


def test_dev_shm_fd_ptmx_and_console(runtime, bundle, tmp_path):
    from conftest import ConsoleSocket
    bundle.process["terminal"] = True
    bundle.set_args("sh", "-c", "echo shm=$(stat -c %F /dev/shm); "
                    "echo ptmx=$(readlink /dev/ptmx); echo fd=$(readlink /dev/fd); "
                    "echo con=$(stat -c '%F %t' /dev/console); "
                    "echo hi > /dev/shm/x && echo shmw=ok; echo viafd > /dev/stdout")
    sock = str(tmp_path / "c.sock")
    cs = ConsoleSocket(sock)
    try:
        r = runtime.create(bundle, "--console-socket", sock)
        assert r.returncode == 0, r.stderr
        assert cs.wait() is not None, cs.error
        runtime.ok("start", bundle.id)
        out = cs.read_all(timeout=10)
    finally:
        cs.close()
    kv = parse_kv(out.replace("\r", ""))
    assert one(kv, "shm") == "directory" and one(kv, "shmw") == "ok", out
    assert one(kv, "ptmx") == "pts/ptmx" and one(kv, "fd") == "/proc/self/fd", out
    assert one(kv, "con") == "character special file 88", out  # pty major 136
    assert "viafd" in out


def test_linux_devices_modes_owners(runtime, bundle):
    bundle.linux["devices"] = [
        {"path": "/dev/a-char", "type": "c", "major": 1, "minor": 5, "fileMode": 0o600,
         "uid": 7, "gid": 9},
        {"path": "/dev/sub/a-block", "type": "b", "major": 7, "minor": 200,
         "fileMode": 0o640, "uid": 0, "gid": 6},
        {"path": "/dev/a-fifo", "type": "p", "fileMode": 0o622},
    ]
    bundle.set_args("sh", "-c", "stat -c '%n=%F:%t:%T:%a:%u:%g' /dev/a-char /dev/sub/a-block "
                    "/dev/a-fifo")
    kv = parse_kv(runtime.run_ok(bundle).stdout)
    assert one(kv, "/dev/a-char") == "character special file:1:5:600:7:9"
    assert one(kv, "/dev/sub/a-block") == "block special file:7:c8:640:0:6"
    assert one(kv, "/dev/a-fifo").startswith("fifo:") and \
        one(kv, "/dev/a-fifo").endswith(":622:0:0")


def test_linux_devices_in_userns_are_bound(runtime, bundle):
    for ns in ("pid", "ipc", "uts", "mount", "network", "user"):
        bundle.set_namespace(ns)
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.drop_mount("/sys/fs/cgroup")
    bundle.linux["devices"] = [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3}]
    bundle.set_args("sh", "-c", "stat -c '%n=%F:%t:%T' /dev/null /dev/mynull; "
                    "echo x > /dev/mynull && echo w=ok; /checker mounts")
    r = runtime.run_ok(bundle)
    kv = parse_kv(r.stdout)
    assert one(kv, "/dev/mynull") == "character special file:1:3"
    assert one(kv, "/dev/null") == "character special file:1:3"
    assert one(kv, "w") == "ok"
    assert any(m["mountpoint"] == "/dev/mynull" for m in mounts_from(kv)), "not a bind"


@pytest.mark.skipif(cgroup_mode() == "unified", reason="v1 hierarchies as submounts")
def test_cgroup_in_userns_bound_read_only_with_submounts(runtime, bundle):
    """A cgroup mount in a user namespace on a v1 host is the host's
    /sys/fs/cgroup bound with its hierarchies: "ro" must reach every
    submount (mount_setattr, or one remount per submount without it)."""
    for ns in ("pid", "ipc", "uts", "mount", "network", "user"):
        bundle.set_namespace(ns)
    bundle.drop_namespace("cgroup")
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.drop_mount("/sys/fs/cgroup")
    bundle.add_mount("/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "ro"])
    kv = runtime.check(bundle, "mounts")
    cg = [m for m in mounts_from(kv) if m["mountpoint"].startswith("/sys/fs/cgroup/")]
    assert cg, kv.get("mount")
    rw = [m["mountpoint"] for m in cg if "ro" not in m["opts"]]
    assert not rw, f"writable cgroup submounts: {rw}"


@pytest.mark.skipif(IS_RUNC, reason="hutch feature flags")
@pytest.mark.parametrize("own_maps", [False, True])
def test_idmapped_bind_in_user_namespace(runtime, bundle, tmp_path, own_maps):
    """In a user-namespaced container the parent prepares the idmapped tree
    (the init has no privilege over the source's superblock) and the init
    attaches it.  Without the mount's own mappings, the container's are
    used: host-root-owned files appear owned by the container's root."""
    src = tmp_path / "idu"
    src.mkdir()
    os.chmod(tmp_path, 0o755)
    (src / "f0").write_text("x\n")
    os.chown(src / "f0", 0, 0)
    (src / "f7").write_text("y\n")
    os.chown(src / "f7", 7, 7)
    for ns in ("pid", "ipc", "uts", "mount", "network", "user"):
        bundle.set_namespace(ns)
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.drop_mount("/sys/fs/cgroup")
    os.makedirs(os.path.join(bundle.rootfs, "mnt", "id"))  # rootfs owned by host root
    m = {"destination": "/mnt/id", "type": "bind", "source": str(src),
         "options": ["rbind", "idmap"]}
    if own_maps:
        m["uidMappings"] = [{"containerID": 0, "hostID": 100010, "size": 100}]
        m["gidMappings"] = [{"containerID": 0, "hostID": 100010, "size": 100}]
    bundle.config.setdefault("mounts", []).append(m)
    bundle.set_args("sh", "-c", "stat -c '%n=%u:%g' /mnt/id/f0 /mnt/id/f7; "
                    "(echo z > /mnt/id/new) 2>/dev/null && stat -c '%n=%u:%g' /mnt/id/new; "
                    "true")
    if NO_OPEN_TREE:
        return expect_enosys(runtime, bundle, "open_tree")
    r = runtime.run_ok(bundle)
    kv = parse_kv(r.stdout)
    off = 10 if own_maps else 0
    assert one(kv, "/mnt/id/f0") == f"{off}:{off}", r.stdout
    assert one(kv, "/mnt/id/f7") == f"{7 + off}:{7 + off}", r.stdout
    if not own_maps:
        # a file the container's root creates is owned by host root
        assert one(kv, "/mnt/id/new") == "0:0", r.stdout
        assert os.stat(src / "new").st_uid == 0


# ---- maskedPaths, readonlyPaths -------------------------------------------------


def test_masked_paths(runtime, bundle):
    """Files are covered by /dev/null, directories by an empty read-only
    tmpfs (one shared superblock where the mount API exists); paths the
    container lacks are skipped."""
    bundle.linux["maskedPaths"] = ["/proc/keys", "/proc/timer_list", "/sys/firmware",
                                   "/sys/kernel", "/no/such/path"]
    bundle.set_args("sh", "-c",
                    "echo keys=$(wc -c < /proc/keys); echo fw=$(ls -A /sys/firmware | wc -l); "
                    "echo kernel=$(ls -A /sys/kernel | wc -l); "
                    "touch /sys/firmware/x 2>/dev/null && echo fw-writable; /checker mounts")
    r = runtime.run_ok(bundle)
    kv = parse_kv(r.stdout)
    assert one(kv, "keys") == "0" and one(kv, "fw") == "0" and one(kv, "kernel") == "0", r.stdout
    assert "fw-writable" not in r.stdout
    keys = mount_at(kv, "/proc/keys")
    assert keys["root"] == "/null", keys
    dirs = [mount_at(kv, d) for d in ("/sys/firmware", "/sys/kernel")]
    for m in dirs:
        assert m["fstype"] == "tmpfs" and "ro" in m["opts"], m
        assert {"nosuid", "nodev", "noexec"} <= set(m["opts"]), m
    # a mountinfo line's third field is the superblock's device
    devs = {line.split()[2] for line in kv["mount"]
            if line.split()[4] in ("/sys/firmware", "/sys/kernel")}
    if not NO_OPEN_TREE:
        assert len(devs) == 1, devs


def test_readonly_paths_cover_submounts(runtime, bundle):
    """readonlyPaths are read-only; where the mount API exists, so is what
    is mounted below them (a recursive read-only clone)."""
    bundle.add_mount("/data", "tmpfs", "tmpfs", ["mode=755"])
    bundle.add_mount("/data/sub", "tmpfs", "tmpfs", ["mode=755"])
    bundle.linux["readonlyPaths"] = ["/proc/sys", "/data"]
    bundle.set_args("sh", "-c",
                    "echo x > /proc/sys/kernel/domainname 2>/dev/null && echo sys-writable; "
                    "touch /data/f 2>/dev/null && echo data-writable; "
                    "touch /data/sub/f 2>/dev/null && echo sub-writable; echo done")
    r = runtime.run_ok(bundle)
    assert "done" in r.stdout
    assert "sys-writable" not in r.stdout and "data-writable" not in r.stdout, r.stdout
    if not NO_OPEN_TREE and not NO_SETATTR:
        assert "sub-writable" not in r.stdout, r.stdout
