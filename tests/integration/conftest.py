"""Integration-test harness for hutch (runs real containers; needs root).

The runtime under test is $HUTCH_BIN (default: <repo>/build/hutch), so the same
tests can be run against runc:  HUTCH_BIN=/usr/sbin/runc pytest tests/integration

Fixtures:
  rootfs_cache  session: a busybox-static rootfs plus /checker, built once
  bundle        a fresh bundle dir with config.json from `$HUTCH_BIN spec`,
                edited in Python (bundle.config is a dict; bundle.write())
  runtime       the binary with a private --root; every container id it
                hands out is `delete --force`d afterwards and the harness then
                asserts nothing is left (state dir, cgroup dirs, mounts,
                processes)
"""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HUTCH_BIN = os.environ.get("HUTCH_BIN") or next(
    (p for p in (os.path.join(REPO, "build", "hutch"),
                 os.path.join(REPO, "build", "src", "cli", "hutch")) if os.path.exists(p)),
    os.path.join(REPO, "build", "hutch"))
IS_RUNC = os.path.basename(HUTCH_BIN).startswith("runc")
CGROUP_ROOT = "/sys/fs/cgroup"
CGROUP_PARENT = "hutch-test"
# Per-command timeout (seconds).  Containers here start in well under a
# second; after a few timeouts the rest of the session uses a short one so a
# hanging runtime cannot stretch CI for hours.
TIMEOUT = int(os.environ.get("HUTCH_TEST_TIMEOUT", "20"))
SHORT_TIMEOUT = 5
_timeouts = [0]


def cgroup_mode():
    """'unified', 'hybrid' or 'legacy' for this host."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            mnt, fstype = fields[4], fields[sep + 1]
            if mnt == CGROUP_ROOT and fstype == "cgroup2":
                return "unified"
    if os.path.exists(os.path.join(CGROUP_ROOT, "unified", "cgroup.controllers")):
        return "hybrid"
    return "legacy"


def v1_controller_dir(ctrl):
    """Directory of a v1 controller hierarchy (e.g. 'memory'), or None."""
    for cand in glob.glob(os.path.join(CGROUP_ROOT, "*")):
        name = os.path.basename(cand)
        if ctrl in name.split(",") and os.path.isdir(cand):
            if not os.path.exists(os.path.join(cand, "cgroup.controllers")):
                return cand
    return None


def cg_path(ctrl, cid, name):
    """File NAME of container CID's cgroup (below CGROUP_PARENT) in the
    hierarchy holding controller CTRL: its v1 hierarchy, or the cgroup2 tree
    (on a hybrid host, where hugetlb is)."""
    mode = cgroup_mode()
    if mode == "unified" or (ctrl == "hugetlb" and mode == "hybrid"):
        base = CGROUP_ROOT if mode == "unified" else os.path.join(CGROUP_ROOT, "unified")
        return os.path.join(base, CGROUP_PARENT, cid, name)
    return os.path.join(v1_controller_dir(ctrl), CGROUP_PARENT, cid, name)


def read_text(path):
    with open(path) as f:
        return f.read().strip()


def int_kv(text):
    """'key value' lines (cgroup stat files) into {key: int}."""
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = int(parts[1])
    return out


def run_detached(runtime, bundle, args, resources):
    """`run --detach` ARGS with RESOURCES; returns the container id."""
    bundle.linux["resources"] = resources
    bundle.set_args(*args)
    runtime.run_ok(bundle, "--detach")
    runtime.state(bundle.id)  # the harness checks the pid is gone at the end
    return bundle.id


def cgroup_dirs(cid):
    """Every cgroup directory that exists for container `cid` (any hierarchy)."""
    return sorted(
        set(glob.glob(os.path.join(CGROUP_ROOT, "*", CGROUP_PARENT, cid)))
        | set(glob.glob(os.path.join(CGROUP_ROOT, CGROUP_PARENT, cid)))
    )


def parse_kv(text):
    """Parse checker output: key=value lines into {key: [values]}."""
    out = {}
    for line in text.splitlines():
        if "=" not in line:
            continue
        k, v = line.split("=", 1)
        out.setdefault(k, []).append(v)
    return out


def one(kv, key):
    vals = kv.get(key)
    assert vals, f"checker printed no {key!r}: {kv}"
    assert len(vals) == 1, f"{key}: {vals}"
    return vals[0]


def parse_mountinfo_line(line):
    """Return dict(mountpoint, opts, optional, fstype, source, superopts)."""
    f = line.split()
    sep = f.index("-")
    return {
        "root": f[3],
        "mountpoint": f[4],
        "opts": f[5].split(","),
        "optional": f[6:sep],
        "fstype": f[sep + 1],
        "source": f[sep + 2],
        "superopts": f[sep + 3].split(",") if len(f) > sep + 3 else [],
    }


def mounts_from(kv):
    return [parse_mountinfo_line(m) for m in kv.get("mount", [])]


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return False
    state = data.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def wait_for(pred, timeout=10.0, interval=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(interval)
    return pred()


def run_cmd(argv, timeout=TIMEOUT, input=None, **kw):
    """Run argv; return CompletedProcess with text stdout/stderr.

    Output goes to temporary files, not pipes: a detached container inherits
    the runtime's stdout/stderr and would keep a pipe open for ever."""
    if _timeouts[0] >= 3:
        timeout = min(timeout, SHORT_TIMEOUT)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        stdin = subprocess.DEVNULL if input is None else subprocess.PIPE
        p = subprocess.Popen(argv, stdin=stdin, stdout=out, stderr=err, **kw)
        try:
            if input is not None:
                p.stdin.write(input.encode())
                p.stdin.close()
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _timeouts[0] += 1
            p.kill()
            p.wait()
            raise
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            argv, rc, out.read().decode(errors="replace"), err.read().decode(errors="replace")
        )


# --------------------------------------------------------------------------
# session: rootfs + checker


@pytest.fixture(scope="session")
def workdir():
    """A world-traversable scratch dir (0711): user-namespaced containers run
    as unprivileged host uids and must be able to reach their rootfs, which
    pytest's 0700 tmp dirs would forbid."""
    d = tempfile.mkdtemp(prefix="hutch-it-")
    os.chmod(d, 0o711)
    yield d
    # Only remove if nothing is mounted below it (a leak is reported by tests).
    with open("/proc/self/mountinfo") as f:
        if d not in f.read():
            shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def checker_bin(workdir):
    out = os.path.join(workdir, "checker")
    src = os.path.join(REPO, "tests", "helpers", "checker.c")
    r = run_cmd(
        ["gcc", "-static", "-O2", "-std=gnu17", "-D_GNU_SOURCE", "-Wall", "-Wextra",
         "-Werror", "-o", out, src],
        timeout=120,
    )
    assert r.returncode == 0, f"building checker failed:\n{r.stderr}"
    return out


@pytest.fixture(scope="session")
def rootfs_cache(workdir, checker_bin):
    d = os.path.join(workdir, "rootfs")
    r = run_cmd(["sh", os.path.join(REPO, "tools", "mkrootfs.sh"), d], timeout=120)
    assert r.returncode == 0, f"mkrootfs failed:\n{r.stdout}\n{r.stderr}"
    shutil.copy2(checker_bin, os.path.join(d, "checker"))
    os.chmod(os.path.join(d, "checker"), 0o755)
    return d


@pytest.fixture(scope="session", autouse=True)
def cgroup_parent_cleanup():
    """Remove the parent cgroups this session caused, when empty: hutch-test,
    and hutch's default parent "hutch" (tests without cgroupsPath; delete
    keeps parents for the next containers, as runc and crun do)."""
    def parents():
        found = set()
        for name in (CGROUP_PARENT, "hutch"):
            found |= set(glob.glob(os.path.join(CGROUP_ROOT, "*", name)))
            found |= set(glob.glob(os.path.join(CGROUP_ROOT, name)))
        return found
    pre = parents()
    yield
    for d in sorted(parents() - pre):
        try:
            os.rmdir(d)
        except OSError:
            pass


@pytest.fixture(scope="session", autouse=True)
def require_root_and_binary():
    if os.geteuid() != 0:
        pytest.fail("integration tests must run as root")
    if not os.access(HUTCH_BIN, os.X_OK):
        pytest.fail(f"runtime binary {HUTCH_BIN} not found (build first or set HUTCH_BIN)")


# --------------------------------------------------------------------------
# bundle


class Bundle:
    def __init__(self, path, config):
        self.path = path
        self.config = config
        self.rootfs = os.path.join(path, "rootfs")

    @property
    def process(self):
        return self.config["process"]

    @property
    def linux(self):
        return self.config.setdefault("linux", {})

    def set_args(self, *args):
        self.config["process"]["args"] = list(args)

    def namespaces(self):
        return [ns["type"] for ns in self.linux.get("namespaces", [])]

    def set_namespace(self, nstype, path=None):
        nss = [ns for ns in self.linux.get("namespaces", []) if ns["type"] != nstype]
        ns = {"type": nstype}
        if path is not None:
            ns["path"] = path
        nss.append(ns)
        self.linux["namespaces"] = nss

    def drop_namespace(self, nstype):
        self.linux["namespaces"] = [
            ns for ns in self.linux.get("namespaces", []) if ns["type"] != nstype
        ]

    def add_mount(self, destination, mtype, source, options=None):
        m = {"destination": destination, "type": mtype, "source": source}
        if options is not None:
            m["options"] = options
        self.config.setdefault("mounts", []).append(m)

    def drop_mount(self, destination):
        self.config["mounts"] = [
            m for m in self.config.get("mounts", []) if m["destination"] != destination
        ]

    def write(self):
        with open(os.path.join(self.path, "config.json"), "w") as f:
            json.dump(self.config, f, indent=2)


def make_bundle(path, rootfs_src, cid):
    os.makedirs(path, mode=0o711)
    os.chmod(path, 0o711)
    r = run_cmd(["cp", "-a", rootfs_src, os.path.join(path, "rootfs")])
    assert r.returncode == 0, r.stderr
    r = run_cmd([HUTCH_BIN, "spec", "--bundle", path])
    assert r.returncode == 0, f"{HUTCH_BIN} spec failed: {r.stderr}"
    assert os.path.exists(os.path.join(path, "config.json")), \
        f"{HUTCH_BIN} spec --bundle {path} wrote no config.json"
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    b = Bundle(path, config)
    config["process"]["terminal"] = False
    config["process"]["args"] = ["/checker"]
    config["root"] = {"path": "rootfs", "readonly": False}
    config["hostname"] = "hutch-test"
    b.linux["cgroupsPath"] = f"/{CGROUP_PARENT}/{cid}"
    b.write()
    return b


# --------------------------------------------------------------------------
# runtime


class Runtime:
    """Wraps $HUTCH_BIN with a private --root; remembers every container id."""

    def __init__(self, root, bundles_dir, rootfs_src):
        self.bin = HUTCH_BIN
        self.root = root
        self.bundles_dir = bundles_dir
        self.rootfs_src = rootfs_src
        self.ids = []
        self.bundles = []
        self.pids = set()
        self.is_runc = IS_RUNC

    # ids and bundles -------------------------------------------------------
    def new_id(self):
        cid = "t-" + uuid.uuid4().hex[:8]
        self.ids.append(cid)
        return cid

    def new_bundle(self, cid=None):
        """A fresh bundle for container `cid` (a new id when None)."""
        if cid is None:
            cid = self.new_id()
        elif cid not in self.ids:
            self.ids.append(cid)
        b = make_bundle(os.path.join(self.bundles_dir, cid), self.rootfs_src, cid)
        b.id = cid
        self.bundles.append(b)
        return b

    # raw invocation --------------------------------------------------------
    def argv(self, *args, global_args=()):
        return [self.bin, "--root", self.root, *global_args, *args]

    def __call__(self, *args, timeout=TIMEOUT, global_args=(), **kw):
        return run_cmd(self.argv(*args, global_args=global_args), timeout=timeout, **kw)

    def ok(self, *args, **kw):
        r = self(*args, **kw)
        assert r.returncode == 0, (
            f"{' '.join(args)} exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
        )
        return r

    # lifecycle helpers -----------------------------------------------------
    def create(self, b, *extra, **kw):
        if b.id not in self.ids:
            self.ids.append(b.id)
        b.write()
        return self("create", "--bundle", b.path, *extra, b.id, **kw)

    def run(self, b, *extra, **kw):
        if b.id not in self.ids:
            self.ids.append(b.id)
        b.write()
        return self("run", "--bundle", b.path, *extra, b.id, **kw)

    def run_ok(self, b, *extra, **kw):
        r = self.run(b, *extra, **kw)
        assert r.returncode == 0, (
            f"run exited {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
        )
        return r

    def check(self, b, *sections):
        """Run /checker SECTIONS in bundle b; return parsed key=value output."""
        b.set_args("/checker", *sections)
        r = self.run_ok(b)
        return parse_kv(r.stdout)

    def state(self, cid):
        r = self.ok("state", cid)
        st = json.loads(r.stdout)
        if st.get("pid"):
            self.pids.add(st["pid"])
        return st

    def status(self, cid):
        return self.state(cid)["status"]

    def wait_status(self, cid, status, timeout=10):
        wait_for(lambda: self.state(cid)["status"] == status, timeout)
        return self.state(cid)["status"]

    # cleanup ---------------------------------------------------------------
    def leftovers(self, cid, bundle_path=None):
        """Everything of container cid still present on the host."""
        problems = []
        sd = os.path.join(self.root, cid)
        if os.path.exists(sd):
            problems.append(f"state dir {sd} still exists")
        for d in cgroup_dirs(cid):
            problems.append(f"cgroup dir {d} still exists")
        if bundle_path is None:
            bundle_path = os.path.join(self.bundles_dir, cid)
        with open("/proc/self/mountinfo") as f:
            for line in f:
                if bundle_path in line:
                    problems.append(f"mount left: {line.strip()}")
        needle = f"/{CGROUP_PARENT}/{cid}"
        for p in glob.glob("/proc/[0-9]*/cgroup"):
            try:
                with open(p) as f:
                    data = f.read()
            except OSError:
                continue
            if any(l.endswith(needle) or (needle + "/") in l for l in data.splitlines()):
                pid = int(p.split("/")[2])
                if pid_alive(pid):
                    problems.append(f"process {pid} still in cgroup {needle}")
        return problems

    def assert_clean(self, cid, bundle_path=None):
        # The runtime may take a moment to reap (e.g. after kill); allow it.
        wait_for(lambda: not self.leftovers(cid, bundle_path), timeout=5)
        problems = self.leftovers(cid, bundle_path)
        assert not problems, f"container {cid} left behind: " + "; ".join(problems)

    def cleanup(self):
        problems = []
        for cid in self.ids:
            try:
                self("delete", "--force", cid, timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                problems.append(f"delete --force {cid} timed out")
        for cid in self.ids:
            wait_for(lambda: not self.leftovers(cid), timeout=5)
            problems += self.leftovers(cid)
        for pid in self.pids:
            if pid_alive(pid):
                problems.append(f"container process {pid} still alive")
        return problems


def force_cleanup(rt, bundles):
    """Remove what a misbehaving runtime left (only things of this test:
    processes in its cgroups or seen as its container pids, mounts under its
    own bundle dir, its cgroup dirs)."""
    victims = {pid for pid in rt.pids if pid_alive(pid)}
    for cid in rt.ids:
        for d in cgroup_dirs(cid):
            for p in glob.glob(os.path.join(d, "cgroup.procs")):
                try:
                    victims |= {int(x) for x in open(p).read().split()}
                except OSError:
                    pass
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    wait_for(lambda: not any(pid_alive(p) for p in victims), 5)
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f if bundles in line.split()[4]]
    for mp in reversed(points):
        subprocess.run(["umount", "-l", mp], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=TIMEOUT)
    for cid in rt.ids:
        for d in cgroup_dirs(cid):
            for sub in sorted(glob.glob(os.path.join(d, "**/"), recursive=True), reverse=True):
                try:
                    os.rmdir(sub)
                except OSError:
                    pass


@pytest.fixture
def runtime(tmp_path, workdir, rootfs_cache):
    root = tmp_path / "state"
    bundles = os.path.join(workdir, "b-" + uuid.uuid4().hex[:8])
    os.makedirs(bundles, mode=0o711)
    os.chmod(bundles, 0o711)
    rt = Runtime(str(root), bundles, rootfs_cache)
    yield rt
    problems = rt.cleanup()
    # Last resort so that one leak does not cascade into later tests; the
    # failure is still reported below.
    if problems:
        force_cleanup(rt, bundles)
        for cid in rt.ids:
            for d in cgroup_dirs(cid):
                try:
                    os.rmdir(d)
                except OSError:
                    pass
    else:
        with open("/proc/self/mountinfo") as f:
            if bundles not in f.read():
                shutil.rmtree(bundles, ignore_errors=True)
    assert not problems, "leftovers after test: " + "; ".join(problems)


@pytest.fixture
def bundle(runtime):
    """A fresh bundle (new container id in bundle.id) registered for cleanup."""
    return runtime.new_bundle()


# --------------------------------------------------------------------------
# helpers for tests


class Holder:
    """A host process (e.g. `unshare --net sleep`) the test started and owns."""

    def __init__(self, argv):
        # Own process group: `unshare --fork` leaves a child that must die too.
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        self.pid = self.proc.pid

    def ns_path(self, nstype):
        return f"/proc/{self.pid}/ns/{nstype}"

    def stop(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=TIMEOUT)


@pytest.fixture
def holder():
    """Factory starting owned helper processes; all are killed at teardown."""
    started = []

    def start(argv, ns=None):
        h = Holder(argv)
        started.append(h)
        if ns:
            # wait until unshare has switched namespaces
            host = os.readlink(f"/proc/self/ns/{ns}")
            assert wait_for(lambda: _readlink(h.ns_path(ns)) not in (None, host), 10), \
                f"holder {argv} did not enter a new {ns} namespace"
        return h

    yield start
    for h in started:
        h.stop()


def _readlink(p):
    try:
        return os.readlink(p)
    except OSError:
        return None


class ConsoleSocket:
    """AF_UNIX listener receiving the pty master over SCM_RIGHTS."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.sock.settimeout(TIMEOUT)
        self.master = None
        self.error = None
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        try:
            conn, _ = self.sock.accept()
            with conn:
                conn.settimeout(TIMEOUT)
                msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 4)
                if fds:
                    self.master = fds[0]
                    for extra in fds[1:]:
                        os.close(extra)
        except Exception as e:  # reported by the test
            self.error = e

    def wait(self, timeout=TIMEOUT):
        self.thread.join(timeout)
        return self.master

    def read_all(self, timeout=10):
        """Read from the master until EIO (all slaves closed) or timeout."""
        import select
        out = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if not r:
                continue
            try:
                data = os.read(self.master, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
        return out.decode(errors="replace")

    def close(self):
        if self.master is not None:
            os.close(self.master)
            self.master = None
        self.sock.close()
