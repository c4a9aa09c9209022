"""containerd 1.6 + ctr with hutch as the runc binary of the runc v2 shim
(`ctr run --runtime io.containerd.runc.v2 --runc-binary HUTCH`).

containerd runs with its own config (root, state, grpc/ttrpc sockets in a
temp dir, CRI disabled).  containerd 1.6 still puts shim sockets in
/run/containerd/s and ctr its stdio fifos in /run/containerd/fifo whatever
the config says; both are removed afterwards when they were not there
before.  The image is an OCI layout tar made by tools/engines/mkimg.py.
"""

import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tools", "engines"))
import enginelib as E  # noqa: E402

# tools/deps.sh installs the engine: a missing one is a failure, not a skip.

NS = "hutch-ctr-test"
IMAGE = "docker.io/library/bb:latest"


class Ctr:
    def __init__(self, d):
        self.dir = d
        self.sock = os.path.join(d, "containerd.sock")
        self.runc_root = os.path.join(d, "runc-root")
        self.env = dict(os.environ, CONTAINERD_ADDRESS=self.sock)
        self.ro = ["--runtime", "io.containerd.runc.v2", "--runc-binary", E.HUTCH,
                   "--runc-root", self.runc_root]

    def __call__(self, *args, timeout=E.CMD_TIMEOUT):
        return E.run(["ctr", "-n", NS, *args], timeout=timeout, env=self.env)

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.returncode == 0, f"ctr {' '.join(args)}: rc {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def run(self, *args, **kw):
        return self("run", "--fifo-dir", os.path.join(self.dir, "fifo"), *self.ro, *args, **kw)

    def remove(self, cid):
        self("task", "kill", "-s", "SIGKILL", cid)
        E.wait_for(lambda: "RUNNING" not in self("task", "ls").stdout.split(cid)[-1][:40], 10)
        self("task", "delete", "-f", cid)
        self("container", "rm", cid)

    def task_status(self, cid):
        for line in self.ok("task", "ls").stdout.splitlines()[1:]:
            f = line.split()
            if f and f[0] == cid:
                return f[2]
        return None


@pytest.fixture(scope="module")
def ctr():
    d = tempfile.mkdtemp(prefix="hutch-ctr-")
    snap = E.HostSnapshot(cgroup_names=[NS])
    conf = os.path.join(d, "config.toml")
    with open(conf, "w") as f:
        f.write(f"""version = 2
root = "{d}/root"
state = "{d}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = "{d}/containerd.sock"

[ttrpc]
  address = "{d}/containerd.sock.ttrpc"

[plugins."io.containerd.monitor.v1.cgroups"]
  no_prometheus = true
""")
    daemon = E.start_daemon(["containerd", "--config", conf], os.path.join(d, "containerd.log"))
    c = Ctr(d)
    try:
        assert E.wait_for(lambda: c("version", timeout=10).returncode == 0, 30), \
            open(os.path.join(d, "containerd.log")).read()[-2000:]
        oci, _docker = E.image_archives(d, E.busybox_rootfs_tar(d))
        c.ok("images", "import", oci, timeout=120)
        yield c
    finally:
        try:
            for line in c("container", "ls", "-q").stdout.split():
                c.remove(line)
        except Exception:
            pass
        E.stop_pid(daemon.pid)
        daemon.wait(timeout=30)
        # shims whose containerd is gone exit on their own once their task
        # is deleted; anything of ours still in our namespace's cgroup dies
        snap.clean(under=[d])
        shutil.rmtree(d, ignore_errors=True)


def test_ctr_run_and_exit_status(ctr):
    r = ctr.run("--rm", IMAGE, "t-echo", "/bin/echo", "hello-from-hutch")
    assert r.returncode == 0 and r.stdout.strip() == "hello-from-hutch", r.stderr
    r = ctr.run("--rm", IMAGE, "t-exit", "sh", "-c", "exit 42")
    assert r.returncode == 42


def test_ctr_run_tty(ctr):
    cmd = " ".join(["ctr", "-n", NS, "run", "--rm", "-t", *ctr.ro, IMAGE, "t-tty",
                    "sh", "-c", "'tty; sleep 0.5; exit 4'"])
    r = E.under_pty(cmd, env=ctr.env)
    assert r.returncode == 4 and "/dev/pts/0" in r.stdout, r.stdout + r.stderr


def test_ctr_exec_kill_pause_ps(ctr):
    ctr.run("-d", IMAGE, "t-main", "sh", "-c", "trap 'exit 3' USR1; while :; do sleep 0.1; done")
    try:
        assert E.wait_for(lambda: ctr.task_status("t-main") == "RUNNING", 10)
        r = ctr("task", "exec", "--exec-id", "e1", "t-main", "sh", "-c", "echo exec-ok; exit 5")
        assert r.returncode == 5 and r.stdout.strip() == "exec-ok"
        r = ctr("task", "exec", "--exec-id", "e2", "--user", "65534", "--cwd", "/tmp", "t-main",
                "sh", "-c", "id -u; pwd")
        assert r.stdout.split() == ["65534", "/tmp"], r.stderr
        r = E.under_pty(f"ctr -n {NS} task exec -t --exec-id e3 t-main sh -c 'tty; sleep 0.5; exit 6'",
                        env=ctr.env)
        assert r.returncode == 6 and "/dev/pts/" in r.stdout, r.stdout + r.stderr
        # task ps goes through `hutch ps --format json`
        r = ctr.ok("task", "ps", "t-main")
        pids = [int(l.split()[0]) for l in r.stdout.splitlines()[1:] if l.split()]
        init = next(int(l.split()[1]) for l in ctr.ok("task", "ls").stdout.splitlines()[1:]
                    if l.split()[0] == "t-main")
        assert init in pids, (init, pids)
        ctr.ok("task", "pause", "t-main")
        assert ctr.task_status("t-main") == "PAUSED"
        with open(os.path.join(E.CGROUP, "freezer", NS, "t-main", "freezer.state")) as f:
            assert f.read().strip() == "FROZEN"
        ctr.ok("task", "resume", "t-main")
        assert ctr.task_status("t-main") == "RUNNING"
        ctr.ok("task", "kill", "-s", "SIGUSR1", "t-main")
        assert E.wait_for(lambda: ctr.task_status("t-main") == "STOPPED", 10)
        r = ctr.ok("task", "delete", "t-main")
    finally:
        ctr.remove("t-main")


def test_ctr_memory_limit(ctr):
    ctr.run("-d", "--memory-limit", str(64 << 20), IMAGE, "t-mem", "sleep", "300")
    try:
        assert E.wait_for(lambda: ctr.task_status("t-mem") == "RUNNING", 10)
        with open(os.path.join(E.CGROUP, "memory", NS, "t-mem", "memory.limit_in_bytes")) as f:
            assert f.read().strip() == str(64 << 20)
        ctr.ok("task", "kill", "-s", "SIGKILL", "t-mem")
        assert E.wait_for(lambda: ctr.task_status("t-mem") == "STOPPED", 10)
    finally:
        ctr.remove("t-mem")
    assert not os.path.exists(os.path.join(E.CGROUP, "memory", NS, "t-mem"))
    assert not os.path.exists(os.path.join(ctr.runc_root, NS, "t-mem"))


def test_ctr_error_from_hutch_reaches_user(ctr):
    r = ctr.run("--rm", IMAGE, "t-bad", "/does/not/exist")
    assert r.returncode != 0
    assert "/does/not/exist" in r.stderr, r.stderr
    ctr("container", "rm", "t-bad")
