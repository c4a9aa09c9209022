"""Shared pieces of the engine tests (tests/integration/test_engine_*.py).

Each engine (Podman, containerd + ctr, Docker) is started by its test with its
own config, root, state and socket in a temp dir, never the machine's
defaults, with hutch as the OCI runtime.  What an engine leaves on the host
outside that dir (cgroups, mounts, bridges, iptables chains, /run dirs) is
recorded before and removed after by HostSnapshot.  Everything is bounded by
timeouts, and processes are stopped by pid only.
"""

import glob
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
HUTCH = os.environ.get("HUTCH_BIN") or next(
    (p for p in (os.path.join(REPO, "build", "hutch"),
                 os.path.join(REPO, "build", "src", "cli", "hutch")) if os.path.exists(p)),
    os.path.join(REPO, "build", "hutch"))
CGROUP = "/sys/fs/cgroup"
CMD_TIMEOUT = int(os.environ.get("HUTCH_ENGINE_TIMEOUT", "90"))

sys.path.insert(0, HERE)
import mkimg  # noqa: E402


def run(argv, timeout=CMD_TIMEOUT, env=None, input=None, cwd=None):
    """Run argv; output through temp files (a detached container or a
    daemon may inherit a pipe and keep it open for ever)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
                             stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True)
        try:
            if input is not None:
                p.stdin.write(input.encode())
                p.stdin.close()
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(argv, rc, out.read().decode(errors="replace"),
                                           err.read().decode(errors="replace"))


def under_pty(cmdline, timeout=CMD_TIMEOUT, env=None):
    """Run a shell command line under a pty (util-linux script), stdin on
    /dev/null, as `-it` tests need."""
    return run(["script", "-qec", cmdline, "/dev/null"], timeout=timeout, env=env)


def wait_for(pred, timeout=30.0, interval=0.2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(interval)
    return pred()


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def stop_pid(pid, timeout=20):
    """SIGTERM, then SIGKILL after timeout; by pid only."""
    if not pid or not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except OSError:
        return
    if not wait_for(lambda: not pid_alive(pid), timeout):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        wait_for(lambda: not pid_alive(pid), 5)


def start_daemon(argv, log_path, env=None):
    log = open(log_path, "ab")
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                         start_new_session=True)
    log.close()
    return p


# ---- images -------------------------------------------------------------------


def busybox_rootfs_tar(workdir):
    """A busybox-static rootfs as a single-layer tar; returns its path."""
    root = os.path.join(workdir, "rootfs")
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "root",
              "var", "run"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    busybox = shutil.which("busybox") or "/bin/busybox"
    shutil.copy2(busybox, os.path.join(root, "bin", "busybox"))
    r = run(["chroot", root, "/bin/busybox", "--install", "-s"])
    assert r.returncode == 0, r.stderr
    with open(os.path.join(root, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    with open(os.path.join(root, "etc", "group"), "w") as f:
        f.write("root:x:0:\nnobody:x:65534:\n")
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    tar = os.path.join(workdir, "busybox-rootfs.tar")
    r = run(["tar", "-C", root, "-cf", tar, "."])
    assert r.returncode == 0, r.stderr
    return tar


def image_archives(workdir, tar, name="bb", tag="latest"):
    """(oci-layout tar, docker-save tar) made by mkimg.py."""
    mkimg.build(tar, workdir, name, tag)
    return (os.path.join(workdir, f"{name}-oci.tar"), os.path.join(workdir, f"{name}-docker.tar"))


# ---- what engines leave on the host ---------------------------------------------


def mountpoints():
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f]


def cgroup_hierarchies():
    return [d for d in glob.glob(os.path.join(CGROUP, "*"))
            if os.path.isdir(d) and not os.path.islink(d)] + (
        [CGROUP] if os.path.exists(os.path.join(CGROUP, "cgroup.controllers")) else [])


def links():
    return set(os.listdir("/sys/class/net"))


def iptables_chains():
    chains = set()
    for table in ("filter", "nat"):
        r = run(["iptables", "-t", table, "-S"], timeout=30)
        for line in r.stdout.splitlines():
            if line.startswith("-N "):
                chains.add((table, line.split()[1]))
    return chains


RUN_DIRS = ("/run/containerd", "/run/containers", "/run/docker", "/run/libpod",
            "/etc/docker/key.json", "/var/lib/containers", "/var/lib/cni")


class HostSnapshot:
    """What was there before an engine ran; clean() removes what it added
    (only the things named: the engine's cgroups, mounts under its dirs,
    its bridges, its iptables chains, its /run dirs)."""

    def __init__(self, cgroup_names, bridges=(), chain_prefixes=()):
        self.cgroup_names = cgroup_names
        self.bridges = bridges
        self.chain_prefixes = chain_prefixes
        self.mounts = set(mountpoints())
        self.links = links()
        self.chains = iptables_chains() if shutil.which("iptables") else set()
        self.paths = {p for p in RUN_DIRS if os.path.lexists(p)}
        self.netns = set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set()
        self.cgroups = {os.path.join(h, n) for h in cgroup_hierarchies()
                        for n in cgroup_names if os.path.isdir(os.path.join(h, n))}
        with open("/proc/sys/net/ipv4/ip_forward") as f:
            self.ip_forward = f.read().strip()

    # -- what is new --------------------------------------------------------
    def new_cgroups(self):
        return sorted({os.path.join(h, n) for h in cgroup_hierarchies()
                       for n in self.cgroup_names if os.path.isdir(os.path.join(h, n))}
                      - self.cgroups)

    def new_mounts(self, under=()):
        return [m for m in mountpoints() if m not in self.mounts
                and (not under or any(m.startswith(u) for u in under))]

    def new_chains(self):
        return sorted(c for c in iptables_chains() - self.chains
                      if c[1].startswith(tuple(self.chain_prefixes)))

    def new_links(self):
        return sorted(link for link in links() - self.links if link in self.bridges)

    def new_paths(self):
        return sorted(p for p in RUN_DIRS if os.path.lexists(p) and p not in self.paths)

    # -- removal ------------------------------------------------------------
    def clean(self, under):
        """Remove what the engine left; `under` are its own temp dirs."""
        for cg in self.new_cgroups():
            kill_cgroup_tree(cg)
        for d in (os.path.join(h, n) for h in cgroup_hierarchies() for n in self.cgroup_names):
            if os.path.isdir(d):
                rmdir_tree(d, keep_top=d in self.cgroups)
        for m in reversed(self.new_mounts(under=tuple(under) + ("/run/netns/", "/run/docker",
                                                                  "/run/containerd"))):
            run(["umount", "-l", m], timeout=30)
        if os.path.isdir("/run/netns"):
            for n in set(os.listdir("/run/netns")) - self.netns:
                if n.startswith(("netns-", "cni-")):
                    run(["umount", "-l", os.path.join("/run/netns", n)], timeout=30)
                    try:
                        os.unlink(os.path.join("/run/netns", n))
                    except OSError:
                        pass
        for link in self.new_links():
            run(["ip", "link", "del", link], timeout=30)
        for table, chain in self.new_chains():
            drop_chain(table, chain)
        for table, chain in self.new_chains():
            run(["iptables", "-t", table, "-X", chain], timeout=30)
        with open("/proc/sys/net/ipv4/ip_forward") as f:
            if f.read().strip() != self.ip_forward:
                with open("/proc/sys/net/ipv4/ip_forward", "w") as w:
                    w.write(self.ip_forward)
        for p in self.new_paths():
            for m in reversed([m for m in mountpoints() if m.startswith(p + "/")]):
                run(["umount", "-l", m], timeout=30)
            if os.path.isdir(p) and not os.path.islink(p):
                shutil.rmtree(p, ignore_errors=True)
            else:
                try:
                    os.unlink(p)
                except OSError:
                    pass


def kill_cgroup_tree(top):
    for procs in glob.glob(os.path.join(top, "**", "cgroup.procs"), recursive=True):
        try:
            pids = [int(x) for x in open(procs).read().split()]
        except OSError:
            continue
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def rmdir_tree(top, keep_top=False):
    subs = sorted((d for d in glob.glob(os.path.join(top, "**/"), recursive=True)),
                  key=len, reverse=True)
    for d in subs:
        d = d.rstrip("/")
        if keep_top and d == top:
            continue
        for _ in range(20):
            try:
                os.rmdir(d)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)


def drop_chain(table, chain):
    """Delete every rule jumping to CHAIN, then flush it."""
    r = run(["iptables", "-t", table, "-S"], timeout=30)
    for line in r.stdout.splitlines():
        parts = shlex.split(line)
        if parts[:1] == ["-A"] and "-j" in parts and parts[parts.index("-j") + 1] == chain:
            run(["iptables", "-t", table, "-D"] + parts[1:], timeout=30)
    run(["iptables", "-t", table, "-F", chain], timeout=30)


def hutch_state_dirs(root):
    return sorted(os.listdir(root)) if os.path.isdir(root) else []
