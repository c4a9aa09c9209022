"""Rootfs: root.path/readonly, mounts with options, /dev, pivot_root/--no-pivot,
rootfsPropagation."""

import os

import pytest

from conftest import mounts_from, one, parse_kv


def mount_at(kv, dest):
    ms = [m for m in mounts_from(kv) if m["mountpoint"] == dest]
    assert ms, f"nothing mounted at {dest}: {kv.get('mount')}"
    return ms[-1]


def test_root_path_relative_to_bundle(runtime, bundle):
    os.rename(bundle.rootfs, os.path.join(bundle.path, "myroot"))
    bundle.config["root"]["path"] = "myroot"
    bundle.set_args("sh", "-c", "echo marker > /inside; ls /")
    r = runtime.run_ok(bundle)
    assert "checker" in r.stdout.split()
    assert open(os.path.join(bundle.path, "myroot", "inside")).read().strip() == "marker"


def test_readonly_root(runtime, bundle):
    bundle.config["root"]["readonly"] = True
    bundle.set_args("sh", "-c", "touch /x && echo WROTE; echo rc=$?; /checker mounts")
    r = runtime.run(bundle)
    assert "WROTE" not in r.stdout
    assert not os.path.exists(os.path.join(bundle.rootfs, "x"))
    kv = parse_kv(r.stdout)
    assert "ro" in mount_at(kv, "/")["opts"]


def test_writable_root(runtime, bundle):
    bundle.config["root"]["readonly"] = False
    bundle.set_args("sh", "-c", "touch /x")
    runtime.run_ok(bundle)
    assert os.path.exists(os.path.join(bundle.rootfs, "x"))


def test_proc_sys_and_default_mounts(runtime, bundle):
    kv = runtime.check(bundle, "mounts")
    assert mount_at(kv, "/proc")["fstype"] == "proc"
    sysfs = mount_at(kv, "/sys")
    assert sysfs["fstype"] == "sysfs"
    assert "ro" in sysfs["opts"]
    dev = mount_at(kv, "/dev")
    assert dev["fstype"] == "tmpfs"
    pts = mount_at(kv, "/dev/pts")
    assert pts["fstype"] == "devpts"
    assert "newinstance" in pts["superopts"] or "ptmxmode=666" in pts["superopts"]
    assert mount_at(kv, "/dev/mqueue")["fstype"] == "mqueue"
    assert mount_at(kv, "/dev/shm")["fstype"] == "tmpfs"


def test_tmpfs_with_options(runtime, bundle):
    bundle.add_mount("/mnt/t", "tmpfs", "tmpfs",
                     ["nosuid", "nodev", "noexec", "mode=1770", "size=2m"])
    bundle.set_args("sh", "-c", "/checker mounts; stat -c 'perm=%a' /mnt/t")
    r = runtime.run_ok(bundle)
    kv = parse_kv(r.stdout)
    m = mount_at(kv, "/mnt/t")
    assert m["fstype"] == "tmpfs"
    for opt in ("nosuid", "nodev", "noexec"):
        assert opt in m["opts"], m
    assert "size=2048k" in m["superopts"], m
    assert one(kv, "perm") == "1770"


def test_bind_mount_ro(runtime, bundle, tmp_path):
    src = tmp_path / "shared"
    src.mkdir()
    (src / "hello").write_text("from-host\n")
    bundle.add_mount("/mnt/b", "bind", str(src), ["rbind", "ro", "nosuid"])
    bundle.set_args("sh", "-c", "cat /mnt/b/hello; touch /mnt/b/new && echo WROTE; /checker mounts")
    r = runtime.run(bundle)
    assert "from-host" in r.stdout
    assert "WROTE" not in r.stdout
    assert not (src / "new").exists()
    m = mount_at(parse_kv(r.stdout), "/mnt/b")
    assert "ro" in m["opts"] and "nosuid" in m["opts"], m


def test_bind_mount_rw_file(runtime, bundle, tmp_path):
    src = tmp_path / "file.txt"
    src.write_text("a\n")
    bundle.add_mount("/etc/extra.txt", "none", str(src), ["bind", "rw"])
    bundle.set_args("sh", "-c", "echo b >> /etc/extra.txt")
    runtime.run_ok(bundle)
    assert src.read_text() == "a\nb\n"


def test_mount_destination_created(runtime, bundle):
    bundle.add_mount("/new/dir/deep", "tmpfs", "tmpfs", [])
    kv = runtime.check(bundle, "mounts")
    assert mount_at(kv, "/new/dir/deep")["fstype"] == "tmpfs"


@pytest.mark.parametrize("cgroupns", [True, False])
def test_cgroup_mount(runtime, bundle, cgroupns):
    if not cgroupns:
        bundle.drop_namespace("cgroup")
    bundle.drop_mount("/sys/fs/cgroup")
    bundle.add_mount("/sys/fs/cgroup", "cgroup", "cgroup", ["nosuid", "noexec", "nodev", "ro"])
    bundle.set_args("sh", "-c", "/checker mounts; cat /sys/fs/cgroup/pids/pids.max "
                    "|| cat /sys/fs/cgroup/pids.max")
    bundle.linux.setdefault("resources", {})["pids"] = {"limit": 33}
    r = runtime.run_ok(bundle)
    assert "33" in r.stdout.split()
    kv = parse_kv(r.stdout)
    cg = [m for m in mounts_from(kv) if m["mountpoint"].startswith("/sys/fs/cgroup")]
    assert cg, "no cgroup mount"
    # one mount per hierarchy, showing only the container's own cgroup, read-only
    hier = [m for m in cg if m["fstype"] in ("cgroup", "cgroup2")]
    assert hier, cg
    for m in hier:
        assert m["root"] == "/" or m["root"].endswith("/" + bundle.id), m
        assert "ro" in m["opts"] and "nosuid" in m["opts"] and "noexec" in m["opts"], m
    points = [m["mountpoint"] for m in hier]
    if "open_tree" not in os.environ.get("HUTCH_TEST_ENOSYS", ""):
        # the classic fallback (no mount API) stacks a bind on a fresh mount
        assert len(points) == len(set(points)), f"stacked cgroup mounts: {points}"


def test_dev_devices(runtime, bundle):
    bundle.set_args("sh", "-c", "for d in null zero full random urandom tty; do "
                    "stat -c '%n %F %t:%T' /dev/$d; done")
    r = runtime.run_ok(bundle)
    got = {line.split()[0]: line for line in r.stdout.splitlines()}
    expect = {"null": "1:3", "zero": "1:5", "full": "1:7", "random": "1:8",
              "urandom": "1:9", "tty": "5:0"}
    for name, majmin in expect.items():
        line = got.get(f"/dev/{name}")
        assert line, f"/dev/{name} missing: {r.stdout}"
        assert "character special file" in line, line
        maj, mnr = line.split()[-1].split(":")
        assert f"{int(maj, 16)}:{int(mnr, 16)}" == majmin, line


def test_dev_symlinks(runtime, bundle):
    bundle.set_args("sh", "-c", "for l in fd stdin stdout stderr ptmx; do "
                    "echo $l=$(readlink /dev/$l); done; echo hi > /dev/null && echo nullok")
    r = runtime.run_ok(bundle)
    kv = parse_kv(r.stdout)
    assert one(kv, "fd") == "/proc/self/fd"
    assert one(kv, "stdin") == "/proc/self/fd/0"
    assert one(kv, "stdout") == "/proc/self/fd/1"
    assert one(kv, "stderr") == "/proc/self/fd/2"
    assert one(kv, "ptmx") == "pts/ptmx"
    assert "nullok" in r.stdout


def test_linux_devices(runtime, bundle):
    bundle.linux["devices"] = [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3,
                                "fileMode": 0o620, "uid": 0, "gid": 0}]
    bundle.set_args("stat", "-c", "%F %t:%T %a", "/dev/mynull")
    r = runtime.run_ok(bundle)
    assert r.stdout.split() == ["character", "special", "file", "1:3", "620"], r.stdout


def test_pivot_root_hides_host(runtime, bundle):
    bundle.set_args("sh", "-c", "ls /; /checker mounts")
    r = runtime.run_ok(bundle)
    names = r.stdout.split()
    assert "checker" in names
    kv = parse_kv(r.stdout)
    # nothing of the host's mount table remains visible
    assert not any(m["mountpoint"] == "/boot" or m["mountpoint"].startswith("/tmp/hutch-it")
                   for m in mounts_from(kv))
    assert not any(bundle.path in m["mountpoint"] for m in mounts_from(kv))


def test_no_pivot(runtime, bundle):
    bundle.set_args("sh", "-c", "ls /; echo x > /np")
    b = bundle
    b.write()
    r = runtime("run", "--no-pivot", "--bundle", b.path, b.id)
    assert r.returncode == 0, r.stderr
    assert "checker" in r.stdout.split()
    assert os.path.exists(os.path.join(b.rootfs, "np"))


def propagation_of_root(runtime, bundle, prop):
    bundle.config["linux"]["rootfsPropagation"] = prop
    kv = runtime.check(bundle, "mounts")
    return mount_at(kv, "/")["optional"]


def test_rootfs_propagation_private(runtime, bundle):
    opt = propagation_of_root(runtime, bundle, "private")
    assert not any(o.startswith(("shared:", "master:")) for o in opt), opt


def test_rootfs_propagation_shared(runtime, bundle):
    opt = propagation_of_root(runtime, bundle, "shared")
    assert any(o.startswith("shared:") for o in opt), opt
