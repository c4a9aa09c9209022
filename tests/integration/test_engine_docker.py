"""Docker 20.10 (Debian's dockerd and /usr/bin/docker CLI, not the newer
/usr/local/bin/docker) with hutch added as runtime "hutch".

dockerd is started by the test with its own config file, data-root,
exec-root, pidfile and socket, --iptables=false (and no ip forwarding or
masquerading), cgroupfs.  It starts its own containerd under the exec-root.
The default bridge network (docker0) is used: its setup is a prestart hook
(`libnetwork-setkey`) that hutch must run at the right time with the right
state on stdin.  See /work/shared/engines.md §5.
"""

import json
import os
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tools", "engines"))
import enginelib as E  # noqa: E402

DOCKER = "/usr/bin/docker"
# tools/deps.sh installs the engine: a missing one is a failure, not a skip.
IMAGE = "bb:latest"


class Docker:
    def __init__(self, d):
        self.dir = d
        self.sock = os.path.join(d, "docker.sock")
        self.env = dict(os.environ, DOCKER_CONFIG=os.path.join(d, "client"))

    def __call__(self, *args, timeout=E.CMD_TIMEOUT):
        return E.run([DOCKER, "-H", "unix://" + self.sock, *args], timeout=timeout, env=self.env)

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.returncode == 0, f"docker {' '.join(args)}: rc {r.returncode}\n{r.stdout}\n{r.stderr}"
        return r

    def cid(self, name):
        return self.ok("inspect", "-f", "{{.Id}}", name).stdout.strip()


def dockerd_pid(d):
    try:
        return int(open(os.path.join(d, "dockerd.pid")).read())
    except (OSError, ValueError):
        return None


@pytest.fixture(scope="module")
def docker():
    d = tempfile.mkdtemp(prefix="hutch-docker-")
    snap = E.HostSnapshot(cgroup_names=["docker"], bridges=("docker0",),
                          chain_prefixes=("DOCKER",))
    with open(os.path.join(d, "daemon.json"), "w") as f:
        f.write("{}\n")
    argv = ["dockerd", "--config-file", os.path.join(d, "daemon.json"),
            "--data-root", os.path.join(d, "data"), "--exec-root", os.path.join(d, "exec"),
            "--pidfile", os.path.join(d, "dockerd.pid"), "-H", "unix://" + os.path.join(d, "docker.sock"),
            "--iptables=false", "--ip-forward=false", "--ip-masq=false", "--userland-proxy=false",
            "--storage-driver", "overlay2", "--exec-opt", "native.cgroupdriver=cgroupfs",
            "--add-runtime", "hutch=" + E.HUTCH]
    daemon = E.start_daemon(argv, os.path.join(d, "dockerd.log"))
    dk = Docker(d)
    try:
        assert E.wait_for(lambda: dk("info", timeout=10).returncode == 0, 60), \
            open(os.path.join(d, "dockerd.log")).read()[-3000:]
        _oci, archive = E.image_archives(d, E.busybox_rootfs_tar(d))
        dk.ok("load", "-i", archive, timeout=120)
        yield dk
    finally:
        try:
            ids = dk("ps", "-aq").stdout.split()
            if ids:
                dk("rm", "-f", *ids, timeout=120)
        except Exception:
            pass
        E.stop_pid(dockerd_pid(d) or daemon.pid, timeout=30)
        E.stop_pid(daemon.pid, timeout=10)
        daemon.wait(timeout=30)
        snap.clean(under=[d])
        shutil.rmtree(d, ignore_errors=True)


def test_docker_run_default_bridge(docker):
    r = docker.ok("run", "--rm", "--runtime", "hutch", IMAGE, "sh", "-c",
                  "echo hello-from-hutch; ip -o -4 addr show eth0; ip route")
    assert r.stdout.startswith("hello-from-hutch")
    assert "172.17." in r.stdout and "default via 172.17.0.1" in r.stdout, r.stdout
    r = docker("run", "--rm", "--runtime", "hutch", "--network", "none", IMAGE, "sh", "-c", "exit 42")
    assert r.returncode == 42


def test_docker_bridge_reachable_from_host(docker):
    docker.ok("run", "-d", "--runtime", "hutch", "--name", "d-net", IMAGE, "sleep", "300")
    try:
        ip = docker.ok("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "d-net").stdout.strip()
        assert ip.startswith("172.17.")
        r = E.run(["ping", "-c", "1", "-W", "3", ip], timeout=20) if shutil.which("ping") else None
        if r is not None:
            assert r.returncode == 0, r.stdout + r.stderr
        r = docker.ok("exec", "d-net", "ping", "-c", "1", "-W", "3", "172.17.0.1")
    finally:
        docker("rm", "-f", "d-net")


def test_docker_exec_stats_stop(docker):
    docker.ok("run", "-d", "--runtime", "hutch", "--name", "d-main", "--memory", "64m",
              "--pids-limit", "32", "--cpus", "0.5", IMAGE, "sleep", "300")
    try:
        cid = docker.cid("d-main")
        r = docker("exec", "d-main", "sh", "-c", "echo exec-ok; exit 5")
        assert r.returncode == 5 and r.stdout.strip() == "exec-ok"
        r = docker.ok("exec", "-u", "65534", "-w", "/tmp", "-e", "FOO=bar", "d-main",
                      "sh", "-c", "id -u; pwd; echo $FOO")
        assert r.stdout.split() == ["65534", "/tmp", "bar"]
        r = E.under_pty(f"{DOCKER} -H unix://{docker.sock} exec -it d-main sh -c 'tty; sleep 0.5; exit 6'",
                        env=docker.env)
        assert r.returncode == 6 and "/dev/pts/" in r.stdout, r.stdout + r.stderr
        cg = os.path.join(E.CGROUP, "{}", "docker", cid, "{}")
        assert open(cg.format("memory", "memory.limit_in_bytes")).read().strip() == str(64 << 20)
        assert open(cg.format("pids", "pids.max")).read().strip() == "32"
        assert open(cg.format("cpu", "cpu.cfs_quota_us")).read().strip() == "50000"
        r = docker.ok("top", "d-main")  # hutch ps --format json
        assert "sleep 300" in r.stdout
        r = docker.ok("stats", "--no-stream", "--format", "{{json .}}", "d-main")
        st = json.loads(r.stdout.splitlines()[0])
        assert st["Name"] == "d-main" and "64MiB" in st["MemUsage"]
        docker.ok("pause", "d-main")
        assert docker.ok("inspect", "-f", "{{.State.Status}}", "d-main").stdout.strip() == "paused"
        docker.ok("unpause", "d-main")
        docker.ok("update", "--memory", "128m", "--memory-swap", "256m", "--pids-limit", "64",
                  "--cpus", "0.25", "d-main")
        assert open(cg.format("memory", "memory.limit_in_bytes")).read().strip() == str(128 << 20)
        assert open(cg.format("pids", "pids.max")).read().strip() == "64"
        docker.ok("stop", "-t", "1", "d-main")
        st = docker.ok("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "d-main")
        assert st.stdout.split() == ["exited", "137"]
    finally:
        docker("rm", "-f", "d-main")


def test_docker_run_it_under_pty(docker):
    r = E.under_pty(f"{DOCKER} -H unix://{docker.sock} run -it --rm --runtime hutch "
                    f"--network none {IMAGE} sh -c 'tty; sleep 0.5; exit 4'", env=docker.env)
    assert r.returncode == 4 and "/dev/pts/0" in r.stdout, r.stdout + r.stderr


def test_docker_error_from_hutch_reaches_user(docker):
    """This machine has no CAP_SYS_RESOURCE: hutch refuses it by name, and
    docker shows hutch's sentence (read from hutch's JSON log by the shim)."""
    with open("/proc/self/status") as f:
        bnd = int(next(l for l in f if l.startswith("CapBnd:")).split()[1], 16)
    if bnd & (1 << 24):
        pytest.skip("this host has CAP_SYS_RESOURCE: nothing for hutch to refuse")
    r = docker("run", "--rm", "--runtime", "hutch", "--cap-add", "SYS_RESOURCE", IMAGE, "true")
    assert r.returncode != 0
    assert "CAP_SYS_RESOURCE is not in hutch's own bounding set" in r.stderr, r.stderr
