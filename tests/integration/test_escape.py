"""Known container-escape classes, each with a hostile rootfs, hook or
container process, checked from the host: host files unchanged, nothing of
the container mounted where it should not be.  Each docstring names the
protection the test covers (the test fails when it is removed)."""

import hashlib
import os
import shutil
import subprocess
import time

import pytest

from conftest import (IS_RUNC, ConsoleSocket, mounts_from, one, parse_kv, pid_alive,
                      run_cmd, wait_for)

pytestmark = pytest.mark.skipif(IS_RUNC, reason="hutch-specific guards and messages")


def host_mountinfo():
    with open("/proc/self/mountinfo") as f:
        return f.read()


def host_file(tmp_path, name="secret", content="host-secret\n"):
    d = tmp_path / "host"
    d.mkdir(exist_ok=True)
    os.chmod(d, 0o755)
    p = d / name
    p.write_text(content)
    os.chmod(p, 0o644)
    return p


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# ---- CVE-2021-30465 class: symlinked mount destinations -----------------------


def test_mount_destination_symlink_to_host_path(runtime, bundle, tmp_path):
    """Protection: destinations resolved inside the rootfs by fd
    (hutch_path_mkdir_in_root, RESOLVE_IN_ROOT) and mounted via
    /proc/self/fd/N.  A rootfs symlink pointing at an absolute host path
    must resolve to that path *inside* the rootfs; following it on the host
    would put the mount on the host directory (lost at pivot_root)."""
    hostdir = tmp_path / "hostdir"
    hostdir.mkdir()
    (hostdir / "keep").write_text("k\n")
    os.makedirs(os.path.join(bundle.rootfs, "mnt"), exist_ok=True)
    os.symlink(str(hostdir), os.path.join(bundle.rootfs, "mnt", "evil"))
    bundle.add_mount("/mnt/evil", "tmpfs", "tmpfs", ["size=1m"])
    bundle.set_args("sh", "-c", "echo x > /mnt/evil/written; /checker mounts")
    before = host_mountinfo()
    r = runtime.run_ok(bundle)
    kv = parse_kv(r.stdout)
    inside = [m for m in mounts_from(kv) if m["mountpoint"] == str(hostdir)]
    assert inside and inside[-1]["fstype"] == "tmpfs", \
        f"tmpfs not at the in-rootfs resolution of the symlink: {kv.get('mount')}"
    assert sorted(os.listdir(hostdir)) == ["keep"], "a write reached the host directory"
    assert host_mountinfo().count(str(hostdir)) == before.count(str(hostdir))


def test_mount_destination_dotdot_symlink(runtime, bundle, tmp_path):
    """Protection: RESOLVE_IN_ROOT clamps ".." at the rootfs: a relative
    symlink climbing out of the rootfs ("../../../..<host dir>") stays in."""
    hostdir = tmp_path / "up"
    hostdir.mkdir()
    rel = os.path.relpath(str(hostdir), os.path.join(bundle.rootfs, "mnt"))
    os.makedirs(os.path.join(bundle.rootfs, "mnt"), exist_ok=True)
    os.symlink("../" * 12 + rel.lstrip("./"), os.path.join(bundle.rootfs, "mnt", "up"))
    bundle.add_mount("/mnt/up", "tmpfs", "tmpfs", [])
    bundle.set_args("sh", "-c", "touch /mnt/up/pwned; /checker mounts")
    r = runtime.run(bundle)
    assert not os.listdir(hostdir), "the mount or a write escaped the rootfs"
    if r.returncode == 0:
        kv = parse_kv(r.stdout)
        assert any(m["fstype"] == "tmpfs" and m["mountpoint"] != "/mnt/up"
                   for m in mounts_from(kv))


def test_bind_source_is_not_resolved_in_rootfs_but_dest_is(runtime, bundle, tmp_path):
    """Protection: a bind destination through a symlink in the rootfs lands
    inside; the bind source (trusted, from the spec) is a host path."""
    src = host_file(tmp_path, "src.txt", "src\n")
    victim = host_file(tmp_path, "victim.txt", "victim\n")
    os.symlink(str(victim), os.path.join(bundle.rootfs, "etc", "victim"))
    bundle.add_mount("/etc/victim", "bind", str(src), ["bind", "ro"])
    bundle.set_args("sh", "-c", "cat /etc/victim; cat " + str(victim))
    r = runtime.run(bundle)
    assert victim.read_text() == "victim\n"
    assert str(victim) not in host_mountinfo()
    if r.returncode == 0:
        assert "src" in r.stdout.split()


# ---- symlinks swapped in during create (hooks run mid-create) --------------------


def hook(bundle, kind, script):
    bundle.config.setdefault("hooks", {}).setdefault(kind, []).append(
        {"path": "/bin/sh", "args": ["sh", "-c", script]})


@pytest.mark.parametrize("replacement", ["symlink", "dir"])
def test_dev_null_swapped_before_masking(runtime, bundle, tmp_path, replacement):
    """CVE-2025-31133.  Protection: check_dev_null() in rootfs.c (the
    container's /dev/null must be a character device 1:3, opened without
    following symlinks) before it is bind-mounted over masked files.  A
    createContainer hook (run mid-create, after /dev was populated) swaps
    /dev/null for a symlink to a read-only bind of a host file: masking
    would bind that file read-write over /proc/keys."""
    victim = host_file(tmp_path)
    bundle.add_mount("/hostro", "bind", str(victim), ["bind", "ro"])
    dev = os.path.join(bundle.rootfs, "dev")
    if replacement == "symlink":
        swap = f"rm -f {dev}/null && ln -s /hostro {dev}/null"
    else:
        swap = f"rm -f {dev}/null && mkdir {dev}/null"
    hook(bundle, "createContainer", swap)
    bundle.linux["maskedPaths"] = ["/proc/keys"]
    bundle.set_args("sh", "-c", "echo PWNED > /proc/keys; echo PWNED > /hostro; true")
    r = runtime.run(bundle)
    assert victim.read_text() == "host-secret\n", "host file overwritten"
    assert r.returncode != 0, "create accepted a hostile /dev/null"
    assert "null device" in r.stderr, r.stderr
    assert str(victim) not in host_mountinfo()
    runtime.assert_clean(bundle.id)


def test_dev_console_symlink_with_terminal(runtime, bundle, tmp_path):
    """CVE-2025-52565.  Protection: hutch_rootfs_bind_console() never follows
    a /dev/console symlink (it is removed and replaced by a file, then
    opened O_NOFOLLOW and the pty bound onto that fd).  A createContainer
    hook makes /dev/console a symlink to a read-only bind of a host file;
    following it would mount the pty over /hostro."""
    victim = host_file(tmp_path)
    bundle.add_mount("/hostro", "bind", str(victim), ["bind", "ro"])
    dev = os.path.join(bundle.rootfs, "dev")
    hook(bundle, "createContainer", f"rm -f {dev}/console; ln -s /hostro {dev}/console")
    bundle.process["terminal"] = True
    bundle.set_args("sh", "-c", "echo con=$(stat -c %F /dev/console); "
                    "echo ro=$(stat -c %F /hostro); cat /hostro; "
                    "echo PWNED > /hostro; echo PWNED > /dev/console; sleep 0.3")
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
    assert victim.read_text() == "host-secret\n"
    assert "con=character special file" in out, out
    assert "ro=regular" in out, out
    assert "host-secret" in out, out


# ---- /proc over-mounts and symlinked /proc (CVE-2019-16884, -19921, 2025-52881) ----


def test_proc_symlink_refused(runtime, bundle, tmp_path):
    """CVE-2019-19921.  Protection: mount_one() refuses to mount proc (or
    sysfs) on a destination that is a symlink in the rootfs.  /proc ->
    /fakeproc, with a host directory holding a fake proc tree bound at
    /fakeproc afterwards, would turn hutch's sysctl write into a write to
    the host file."""
    fake = tmp_path / "fakeproc"
    (fake / "sys" / "net" / "ipv4").mkdir(parents=True)
    target = fake / "sys" / "net" / "ipv4" / "ip_forward"
    target.write_text("0\n")
    proc = os.path.join(bundle.rootfs, "proc")
    shutil.rmtree(proc, ignore_errors=True)
    os.symlink("/fakeproc", proc)
    bundle.add_mount("/fakeproc", "bind", str(fake), ["rbind"])
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    r = runtime.run(bundle)
    assert target.read_text() == "0\n", "sysctl write redirected to a host file"
    assert r.returncode != 0
    assert "symlink" in r.stderr, r.stderr
    runtime.assert_clean(bundle.id)


@pytest.mark.parametrize("over", ["file", "dir"])
def test_sysctl_write_not_redirected_by_overmount(runtime, bundle, tmp_path, over):
    """CVE-2025-52881 / CVE-2019-16884.  Protection: open_sysctl() walks
    /proc/sys by fd with O_NOFOLLOW and checks at every step that it is on
    procfs and on the same mount (check_proc_fd).  A spec bind of a host
    file over /proc/sys/net/ipv4/ip_forward (or of a host directory over
    /proc/sys/net) must not receive hutch's write.  The two checks (f_type
    and mount id) each catch it; the test fails when both are removed."""
    d = tmp_path / "fake"
    (d / "ipv4").mkdir(parents=True)
    f = d / "ipv4" / "ip_forward"
    f.write_text("0\n")
    if over == "file":
        bundle.add_mount("/proc/sys/net/ipv4/ip_forward", "bind", str(f), ["bind"])
    else:
        bundle.add_mount("/proc/sys/net", "bind", str(d), ["rbind"])
    bundle.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    r = runtime.run(bundle)
    assert f.read_text() == "0\n", "hutch's sysctl write landed in a host file"
    assert r.returncode != 0
    assert "procfs" in r.stderr or "over-mounted" in r.stderr, r.stderr
    runtime.assert_clean(bundle.id)


def test_sysctl_key_cannot_walk_out(runtime, bundle):
    """Protection: sysctl keys with ".." or "." components are refused
    (open_sysctl) before any open: "net/../../sysrq-trigger" style keys
    cannot reach /proc/sysrq-trigger or anything outside /proc/sys."""
    bundle.linux["sysctl"] = {"net/../../../proc/sysrq-trigger": "h"}
    r = runtime.run(bundle)
    assert r.returncode != 0
    assert "sysctl" in r.stderr, r.stderr


# ---- rootfs /dev entries that are symlinks --------------------------------------


def test_rootfs_dev_entries_symlinks(runtime, bundle, tmp_path):
    """Protection: make_node()/dev_symlink() replace whatever the image has
    at /dev/<name> (never follow it).  Without a /dev tmpfs the image's own
    /dev is used: its null, zero, tty, ptmx and fd are symlinks to host
    files; writes to them must reach the device, not the host files."""
    bundle.drop_mount("/dev")
    bundle.drop_mount("/dev/pts")
    bundle.drop_mount("/dev/shm")
    bundle.drop_mount("/dev/mqueue")
    dev = os.path.join(bundle.rootfs, "dev")
    os.makedirs(dev, exist_ok=True)
    victims = {}
    for name in ("null", "zero", "full", "tty", "random", "fd"):
        v = host_file(tmp_path, f"v-{name}", f"{name}\n")
        victims[name] = v
        p = os.path.join(dev, name)
        if os.path.lexists(p):
            os.unlink(p)
        os.symlink(str(v), p)
    bundle.set_args("sh", "-c", "echo PWNED > /dev/null; echo PWNED > /dev/zero; "
                    "echo PWNED > /dev/full; for d in null zero full random; do "
                    "echo $d=$(stat -c '%F' /dev/$d); done; echo fd=$(readlink /dev/fd)")
    r = runtime.run(bundle)
    for name, v in victims.items():
        assert v.read_text() == f"{name}\n", f"host file behind /dev/{name} changed"
    assert r.returncode == 0, r.stderr
    kv = parse_kv(r.stdout)
    for d in ("null", "zero", "full", "random"):
        assert one(kv, d) == "character special file", kv
    assert one(kv, "fd") == "/proc/self/fd"


def test_rootfs_dev_is_symlink(runtime, bundle, tmp_path):
    """Protection: open_dev() refuses a /dev that is a symlink (mknod under
    it would follow it to the host)."""
    hostdev = tmp_path / "hostdev"
    hostdev.mkdir()
    bundle.drop_mount("/dev")
    for sub in ("/dev/pts", "/dev/shm", "/dev/mqueue"):
        bundle.drop_mount(sub)
    dev = os.path.join(bundle.rootfs, "dev")
    shutil.rmtree(dev, ignore_errors=True)
    os.symlink(str(hostdev), dev)
    r = runtime.run(bundle)
    assert os.listdir(hostdev) == [], "device nodes created in a host directory"
    assert r.returncode != 0
    assert "/dev is a symlink" in r.stderr, r.stderr
    runtime.assert_clean(bundle.id)


# ---- CVE-2019-5736: the hutch binary ----------------------------------------------


@pytest.fixture
def hutch_copy(runtime, tmp_path):
    """Run this test with a private copy of the hutch binary, so a failed
    guard damages the copy, not the build."""
    d = tmp_path / "bin"
    d.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(d, 0o755)
    copy = str(d / "hutch")
    shutil.copy2(runtime.bin, copy)
    runtime.bin = copy
    return copy


def test_container_cannot_exec_hutch_via_proc_self_exe(runtime, bundle, hutch_copy):
    """Protection: hutch_exeguard_prepare() compares the program (opened
    once, run with execveat on that fd) with the hutch binary: an entrypoint
    of /proc/self/exe would run hutch inside the container, where any
    process could then open /proc/<pid>/exe and rewrite it after exit."""
    before = sha(hutch_copy)
    bundle.set_args("/proc/self/exe", "--version")
    r = runtime.run(bundle)
    assert r.returncode != 0, r.stdout
    assert "CVE-2019-5736" in r.stderr, r.stderr
    assert sha(hutch_copy) == before


def test_container_cannot_exec_hutch_as_interpreter(runtime, bundle, hutch_copy):
    """Protection: the guard reads a script's "#!" line itself and checks
    the interpreter (up to 4 levels, as binfmt_script), so a script (or a
    script calling a script) with "#!/proc/self/exe" cannot run hutch."""
    before = sha(hutch_copy)
    with open(os.path.join(bundle.rootfs, "evil1"), "w") as f:
        f.write("#!/proc/self/exe --help\n")
    with open(os.path.join(bundle.rootfs, "evil2"), "w") as f:
        f.write("#! /evil1 x\n")
    os.chmod(os.path.join(bundle.rootfs, "evil1"), 0o755)
    os.chmod(os.path.join(bundle.rootfs, "evil2"), 0o755)
    bundle.set_args("/evil2")
    r = runtime.run(bundle)
    assert r.returncode != 0, r.stdout
    assert "CVE-2019-5736" in r.stderr and "interpreter of /evil2" in r.stderr, r.stderr
    assert sha(hutch_copy) == before


def test_scripts_still_run_through_the_guard(runtime, bundle):
    """The guard's script handling matches the kernel's: interpreter,
    optional argument, script path, then argv[1:]."""
    with open(os.path.join(bundle.rootfs, "s.sh"), "w") as f:
        f.write("#!/bin/sh -e\necho args=\"$0|$*\"\n")
    os.chmod(os.path.join(bundle.rootfs, "s.sh"), 0o755)
    bundle.set_args("/s.sh", "a", "b c")
    r = runtime.run_ok(bundle)
    assert "args=/s.sh|a b c" in r.stdout, r.stdout


def test_exec_cannot_run_hutch(runtime, bundle, hutch_copy):
    """Protection: the same guard in `hutch exec` (exec.c)."""
    before = sha(hutch_copy)
    bundle.set_args("sleep", "30")
    assert runtime.create(bundle).returncode == 0
    runtime.ok("start", bundle.id)
    r = runtime("exec", bundle.id, "/proc/self/exe", "--version")
    assert r.returncode != 0
    assert "CVE-2019-5736" in r.stderr, r.stderr
    assert sha(hutch_copy) == before


def test_created_init_is_not_dumpable(runtime, bundle):
    """Protection: hutch_exeguard_seal() (PR_SET_DUMPABLE 0 once in the
    container's namespaces).  While the init waits for `start` it is still
    the hutch binary.  A process of the container's user namespace (here:
    nsenter into it, keeping uid 0, so it has the same capabilities there as
    the init) passes the uid and capability checks of ptrace_may_access;
    only non-dumpability (CAP_SYS_PTRACE over the mm's user namespace, the
    host's) keeps it from /proc/<pid>/exe.  Root is mapped to itself so the
    uid switch into the namespace does not clear dumpable by itself."""
    if shutil.which("nsenter") is None:
        pytest.skip("nsenter missing")
    for ns in ("pid", "ipc", "uts", "mount", "network", "user"):
        bundle.set_namespace(ns)
    bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 0, "size": 65536}]
    bundle.drop_mount("/sys/fs/cgroup")
    bundle.set_args("true")
    assert runtime.create(bundle).returncode == 0
    pid = runtime.state(bundle.id)["pid"]
    # the probe works: it can read its own exe
    r = run_cmd(["nsenter", "--preserve-credentials", "-U", "-t", str(pid), "readlink",
                 "/proc/self/exe"])
    assert r.returncode == 0 and r.stdout.strip(), r.stderr
    r = run_cmd(["nsenter", "--preserve-credentials", "-U", "-t", str(pid), "readlink",
                 f"/proc/{pid}/exe"])
    assert r.returncode != 0 and "hutch" not in r.stdout, \
        f"a process in the container's user namespace reached hutch: {r.stdout}"


def test_container_in_shared_pidns_cannot_open_init_exe(runtime, bundle, hutch_copy):
    """A second container joining the pid namespace of a created (not yet
    started) container sees its init, still hutch, as pid 1: opening
    /proc/1/exe (for writing, or O_PATH via readlink-less cat) must fail.
    Covered by the seal and, for containers with fewer capabilities, by the
    kernel's capability-subset rule too."""
    before = sha(hutch_copy)
    bundle.set_args("true")
    assert runtime.create(bundle).returncode == 0
    pid = runtime.state(bundle.id)["pid"]
    b2 = runtime.new_bundle()
    b2.set_namespace("pid", f"/proc/{pid}/ns/pid")
    b2.set_args("sh", "-c", "cat /proc/1/exe >/dev/null 2>&1 && echo READ; "
                "echo x >> /proc/1/exe 2>/dev/null && echo WROTE; "
                "ls -l /proc/1/exe 2>/dev/null | grep -q hutch && echo LINK; echo done")
    r = runtime.run(b2)
    assert "done" in r.stdout, r.stderr
    for bad in ("READ", "WROTE", "LINK"):
        assert bad not in r.stdout, r.stdout
    assert sha(hutch_copy) == before


def test_hutch_binary_unchanged_after_hostile_container(runtime, bundle, hutch_copy):
    """The container tries hard: while `hutch exec` runs commands in it over
    and over, it scans every /proc/<pid>/exe it can see, trying to open it
    for writing and to keep a handle on a hutch binary for later."""
    before = sha(hutch_copy)
    bundle.set_args("sh", "-c", "end=$(($(date +%s)+4)); while [ $(date +%s) -lt $end ]; do "
                    "for p in /proc/[0-9]*; do "
                    "(exec 3>>$p/exe) 2>/dev/null && echo OPENED $p; "
                    "(exec 3<$p/exe) 2>/dev/null && ls -l $p/exe | grep -q hutch "
                    "&& echo HANDLE $p; done; done; echo scan-done")
    bundle.write()
    proc = subprocess.Popen(runtime.argv("run", "--bundle", bundle.path, bundle.id),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: os.path.exists(os.path.join(runtime.root, bundle.id)), 10)
        n = 0
        end = time.monotonic() + 3
        while time.monotonic() < end and proc.poll() is None:
            runtime("exec", bundle.id, "sh", "-c", "sleep 0.02")
            n += 1
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert n >= 3, "too few execs ran during the scan"
    assert "scan-done" in out, err
    assert "OPENED" not in out and "HANDLE" not in out, out
    assert sha(hutch_copy) == before


# ---- CVE-2024-21626: host fds and cwd --------------------------------------------


def check_fds(kv):
    fds = {k: v[0] for k, v in kv.items() if k.startswith("fd.")}
    # 0-2 are the caller's stdio (the test's own files); nothing else
    assert set(fds) <= {"fd.0", "fd.1", "fd.2"}, f"extra fds reached the container: {fds}"


def test_no_host_fd_or_cwd_in_container(runtime, bundle):
    """Protection: close_range(3+preserve_fds, CLOEXEC) before execve and the
    cwd resolved after pivot_root: no fd to a host directory (the leaked
    /sys/fs/cgroup fd of CVE-2024-21626) and /proc/self/cwd inside."""
    bundle.process["cwd"] = "/tmp"
    bundle.set_args("sh", "-c", "/checker fds; echo cwd=$(readlink /proc/self/cwd); "
                    "ls /proc/self/cwd/../../.. >/dev/null; echo up=$(cd ../../..; pwd)")
    r = runtime.run_ok(bundle)
    kv = parse_kv(r.stdout)
    check_fds(kv)
    assert one(kv, "cwd") == "/tmp"
    assert one(kv, "up") == "/"


def test_no_host_fd_or_cwd_in_exec(runtime, bundle):
    """The same for `hutch exec` (exec.c), with --cwd and a relative path
    that would climb out if the cwd were a host directory."""
    bundle.set_args("sleep", "30")
    assert runtime.create(bundle).returncode == 0
    runtime.ok("start", bundle.id)
    r = runtime.ok("exec", "--cwd", "/etc", bundle.id, "sh", "-c",
                   "/checker fds; echo cwd=$(readlink /proc/self/cwd); "
                   "echo up=$(cd ../../../..; pwd); ls ../../../ | grep -c checker")
    kv = parse_kv(r.stdout)
    check_fds(kv)
    assert one(kv, "cwd") == "/etc"
    assert one(kv, "up") == "/"


def test_cwd_symlink_to_host_resolved_inside(runtime, bundle, tmp_path):
    """Protection: process.cwd is entered after pivot_root, so a cwd that is
    a symlink to a host directory resolves inside the rootfs."""
    hostdir = tmp_path / "hostcwd"
    hostdir.mkdir()
    (hostdir / "host-only").write_text("x\n")
    os.symlink(str(hostdir), os.path.join(bundle.rootfs, "work"))
    os.makedirs(os.path.join(bundle.rootfs, str(hostdir).lstrip("/")))
    bundle.process["cwd"] = "/work"
    bundle.set_args("sh", "-c", "ls; touch made-here")
    r = runtime.run_ok(bundle)
    assert "host-only" not in r.stdout
    assert not (hostdir / "made-here").exists()
    assert os.path.exists(os.path.join(bundle.rootfs, str(hostdir).lstrip("/"), "made-here"))


def run_with_leaked_fd(runtime, bundle, fd):
    bundle.write()
    return subprocess.run(runtime.argv("run", "--bundle", bundle.path, bundle.id),
                          pass_fds=(fd,), capture_output=True, text=True, timeout=30,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("how", ["fd", "cwd"])
def test_leaked_host_dir_fd_not_reachable(runtime, bundle, tmp_path, how):
    """CVE-2024-21626.  Protection: hutch closes (close-on-exec) every fd
    past 3+preserve_fds before the container's program runs, and enters
    process.cwd only after the inherited fds are gone, so an fd to a host
    directory that the caller leaked into hutch (docker leaked one to
    /sys/fs/cgroup) is neither in /proc/self/fd nor usable as
    cwd=/proc/self/fd/N."""
    hostdir = tmp_path / "leak"
    hostdir.mkdir()
    (hostdir / "host-only").write_text("x\n")
    fd = os.open(str(hostdir), os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.set_inheritable(fd, True)
        if how == "cwd":
            bundle.process["cwd"] = f"/proc/self/fd/{fd}"
            bundle.set_args("sh", "-c", "ls; echo cwd=$(readlink /proc/self/cwd); "
                            "touch ../../../escaped 2>/dev/null; true")
        else:
            bundle.set_args("sh", "-c", f"/checker fds; ls /proc/self/fd/{fd}/ 2>/dev/null; true")
        r = run_with_leaked_fd(runtime, bundle, fd)
    finally:
        os.close(fd)
    assert "host-only" not in r.stdout, r.stdout
    assert not (tmp_path / "escaped").exists()
    if how == "fd":
        assert r.returncode == 0, r.stderr
        check_fds(parse_kv(r.stdout))
    else:
        assert r.returncode != 0, r.stdout
        assert "outside the container" in r.stderr, r.stderr


def test_leaked_host_dir_fd_not_usable_as_exec_cwd(runtime, bundle, tmp_path):
    """CVE-2024-21626 through `hutch exec --cwd /proc/self/fd/N`.
    Protection: hutch_rootfs_chdir() (getcwd must be inside the root)."""
    hostdir = tmp_path / "leak"
    hostdir.mkdir()
    (hostdir / "host-only").write_text("x\n")
    bundle.set_args("sleep", "30")
    assert runtime.create(bundle).returncode == 0
    runtime.ok("start", bundle.id)
    fd = os.open(str(hostdir), os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.set_inheritable(fd, True)
        r = subprocess.run(runtime.argv("exec", "--cwd", f"/proc/self/fd/{fd}", bundle.id,
                                        "sh", "-c", "ls; touch ../escaped"),
                           pass_fds=(fd,), capture_output=True, text=True, timeout=30,
                           stdin=subprocess.DEVNULL)
    finally:
        os.close(fd)
    assert "host-only" not in r.stdout
    assert not (tmp_path / "escaped").exists()
    assert r.returncode != 0 and "outside the container" in r.stderr, r.stderr
