"""Terminals and stdio.

Foreground `run` and `exec -t` without --console-socket: hutch receives the
pty master itself and relays it to its own terminal (raw mode, restored at
exit; SIGWINCH -> TIOCSWINSZ).  The tests drive hutch from a Python pty
(pty.fork), as a user's shell would.

Without a terminal, stdio passes straight through: pipes stay pipes and
nothing is lost at exit; stdin EOF reaches the container.  hutch never
changes the owner or mode of the stdio it is handed (crun 1.8.1 chowns it
to the container's root; on this machine that changed /dev/null's owner)."""

import fcntl
import hashlib
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

from conftest import TIMEOUT, run_cmd


def set_winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class PtyRun:
    """hutch ARGV on the slave side of a new pty (its controlling terminal)."""

    def __init__(self, argv, rows=40, cols=120, cwd=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child: exec hutch, never return into pytest
            try:
                if cwd:
                    os.chdir(cwd)
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        set_winsize(self.fd, rows, cols)
        self.out = b""
        self.status = None

    def read_until(self, needle, timeout=TIMEOUT):
        end = time.monotonic() + timeout
        while needle not in self.out and time.monotonic() < end:
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:  # EIO: the slave side is gone
                    break
                if not data:
                    break
                self.out += data
        return needle in self.out

    def send(self, data):
        os.write(self.fd, data)

    def wait(self, timeout=TIMEOUT):
        self.read_until(b"\0never\0", timeout=0)  # collect what is there
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                self.read_until(b"\0never\0", timeout=0.3)
                return self.status
            self.read_until(b"\0never\0", timeout=0.1)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        pytest.fail(f"hutch did not exit; output so far: {self.out!r}")

    def termios(self):
        return termios.tcgetattr(self.fd)

    def close(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
        os.close(self.fd)


@pytest.fixture
def ptyrun():
    runs = []

    def start(*a, **kw):
        p = PtyRun(*a, **kw)
        runs.append(p)
        return p

    yield start
    for p in runs:
        p.close()


def terminal_bundle(bundle, *args):
    bundle.process["terminal"] = True
    bundle.set_args(*args)
    bundle.write()


def test_run_terminal_relay(runtime, bundle, ptyrun):
    terminal_bundle(bundle, "sh", "-c",
                    "tty; stty size; echo ready; read x; echo got=$x; exit 7")
    p = ptyrun(runtime.argv("run", "--bundle", bundle.path, bundle.id), rows=33, cols=91)
    before = p.termios()
    assert p.read_until(b"ready"), p.out
    assert b"/dev/pts/0" in p.out
    assert b"33 91" in p.out, p.out
    # hutch's own terminal is raw while it relays: no echo, no line editing
    mode = p.termios()
    assert not mode[3] & termios.ECHO and not mode[3] & termios.ICANON
    p.send(b"hello\r")
    assert p.read_until(b"got=hello"), p.out
    assert p.wait() == 7
    after = p.termios()
    assert after[3] == before[3] and after[0] == before[0], "terminal mode not restored"
    runtime.assert_clean(bundle.id)


def test_run_terminal_sigwinch(runtime, bundle, ptyrun):
    terminal_bundle(bundle, "sh", "-c",
                    "echo ready; i=0; while [ \"$(stty size)\" != '50 132' ]; do "
                    "i=$((i+1)); [ $i -gt 200 ] && exit 9; sleep 0.05; done; echo resized")
    p = ptyrun(runtime.argv("run", "--bundle", bundle.path, bundle.id), rows=24, cols=80)
    assert p.read_until(b"ready"), p.out
    set_winsize(p.fd, 50, 132)  # the kernel sends SIGWINCH to hutch
    assert p.read_until(b"resized"), p.out
    assert p.wait() == 0


def test_run_terminal_signal_forwarded_and_mode_restored(runtime, bundle, ptyrun):
    terminal_bundle(bundle, "sh", "-c", "trap 'echo term; exit 5' TERM; echo ready; "
                    "while :; do sleep 0.1; done")
    p = ptyrun(runtime.argv("run", "--bundle", bundle.path, bundle.id))
    before = p.termios()
    assert p.read_until(b"ready"), p.out
    os.kill(p.pid, signal.SIGTERM)
    assert p.wait() == 5
    assert b"term" in p.out
    assert p.termios()[3] == before[3]


def test_run_terminal_piped_stdin(runtime, bundle):
    """Not a terminal on our side: input still reaches the pty, and EOF
    becomes the pty's EOF character."""
    terminal_bundle(bundle, "sh", "-c", "tty; read x; echo got=$x; cat; echo eof-seen")
    r = runtime("run", "--bundle", bundle.path, bundle.id, input="line1\n")
    assert r.returncode == 0, r.stderr
    assert "/dev/pts/0" in r.stdout and "got=line1" in r.stdout and "eof-seen" in r.stdout


def test_run_detached_terminal_needs_console_socket(runtime, bundle):
    terminal_bundle(bundle, "true")
    r = runtime("run", "--detach", "--bundle", bundle.path, bundle.id)
    assert r.returncode != 0
    assert "console-socket" in r.stderr


def running(runtime, bundle):
    bundle.set_args("sleep", "600")
    for ns in ("pid", "ipc", "uts", "mount"):
        bundle.set_namespace(ns)
    runtime.run_ok(bundle, "--detach")
    return bundle.id


def test_exec_tty_relay(runtime, bundle, ptyrun):
    cid = running(runtime, bundle)
    p = ptyrun(runtime.argv("exec", "-t", cid, "sh", "-c",
                            "tty; stty size; echo ready; read x; echo got=$x; exit 3"),
               rows=22, cols=77)
    assert p.read_until(b"ready"), p.out
    assert b"/dev/pts/" in p.out and b"22 77" in p.out, p.out
    p.send(b"abc\r")
    assert p.read_until(b"got=abc"), p.out
    assert p.wait() == 3


def test_exec_tty_piped_stdin(runtime, bundle):
    cid = running(runtime, bundle)
    r = runtime("exec", "-t", cid, "sh", "-c", "read x; echo got=$x", input="hi\n")
    assert r.returncode == 0, r.stderr
    assert "got=hi" in r.stdout


def test_exec_tty_detached_needs_console_socket(runtime, bundle):
    cid = running(runtime, bundle)
    r = runtime("exec", "-t", "-d", cid, "true")
    assert r.returncode != 0 and "console-socket" in r.stderr


# ---- stdio without a terminal ------------------------------------------------


def test_stdout_pipe_1mib_nothing_lost(runtime, bundle):
    data = os.urandom(1 << 20)
    with open(os.path.join(bundle.rootfs, "big"), "wb") as f:
        f.write(data)
    bundle.set_args("sh", "-c", "readlink /proc/self/fd/1 >&2; cat /big")
    bundle.write()
    p = subprocess.Popen(runtime.argv("run", "--bundle", bundle.path, bundle.id),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err
    assert err.decode().startswith("pipe:"), f"stdout is not our pipe: {err!r}"
    assert len(out) == len(data)
    assert hashlib.sha256(out).digest() == hashlib.sha256(data).digest()


def test_stdin_eof_propagates(runtime, bundle):
    bundle.set_args("sh", "-c", "wc -c; echo done")
    r = runtime.run_ok(bundle, input="x" * 200000)
    assert r.stdout.split() == ["200000", "done"]


def stat3(path):
    st = os.stat(path)
    return (st.st_uid, st.st_gid, st.st_mode)


@pytest.mark.parametrize("userns", [False, True], ids=["plain", "userns"])
def test_stdio_owner_and_mode_unchanged(runtime, bundle, tmp_path, userns):
    if userns:
        for ns in ("pid", "ipc", "uts", "mount", "network", "user"):
            bundle.set_namespace(ns)
        bundle.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        bundle.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        bundle.drop_mount("/sys/fs/cgroup")
    inp = tmp_path / "in.txt"
    inp.write_text("some input\n")
    os.chown(inp, 1234, 2345)
    os.chmod(inp, 0o640)
    outp = tmp_path / "out.txt"
    outp.write_text("")
    os.chown(outp, 4321, 5432)
    os.chmod(outp, 0o600)
    bundle.set_args("sh", "-c", "cat; echo written")
    bundle.write()
    null_before = stat3("/dev/null")
    in_before, out_before = stat3(inp), stat3(outp)
    with open(inp, "rb") as fin, open(outp, "ab") as fout:
        r = subprocess.run(runtime.argv("run", "--bundle", bundle.path, bundle.id),
                           stdin=fin, stdout=fout, stderr=subprocess.PIPE, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert outp.read_text() == "some input\nwritten\n"
    # again with stdin and stdout on /dev/null (run deleted the first one)
    with open("/dev/null", "rb") as fin, open("/dev/null", "wb") as fout:
        r = subprocess.run(runtime.argv("run", "--bundle", bundle.path, bundle.id),
                           stdin=fin, stdout=fout, stderr=subprocess.PIPE, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert stat3(inp) == in_before, "stdin file owner/mode changed"
    assert stat3(outp) == out_before, "stdout file owner/mode changed"
    assert stat3("/dev/null") == null_before, "/dev/null owner/mode changed"


# ---- socket activation and sd_notify -------------------------------------------

LISTEN_SCRIPT = r"""
import os, sys
data = [b"fd3-listen\n", b"fd4-listen\n", b"fd5-preserved\n"]
for want, payload in zip((3, 4, 5), data):
    r, w = os.pipe()
    os.write(w, payload)
    os.close(w)
    if r != want:
        os.dup2(r, want)
        os.close(r)
    os.set_inheritable(want, True)
os.environ["LISTEN_FDS"] = "2"
os.environ["LISTEN_PID"] = sys.argv[1] if sys.argv[1] != "self" else str(os.getpid())
os.execv(sys.argv[2], sys.argv[2:])
"""


@pytest.mark.parametrize("listen_pid", ["self", "1"])
def test_listen_fds_socket_activation(runtime, bundle, tmp_path, listen_pid):
    """runc's rule: LISTEN_FDS meant for us (LISTEN_PID = our pid) passes fds
    3..3+N-1 first, --preserve-fds after them, and the container gets
    LISTEN_FDS=N LISTEN_PID=1.  LISTEN_PID of another process: nothing."""
    bundle.set_args("sh", "-c", "echo env=$LISTEN_FDS/$LISTEN_PID; cat <&3; cat <&4; cat <&5")
    bundle.write()
    script = tmp_path / "activate.py"
    script.write_text(LISTEN_SCRIPT)
    r = run_cmd(["python3", str(script), listen_pid,
                 *runtime.argv("run", "--preserve-fds", "1", "--bundle", bundle.path, bundle.id)])
    if listen_pid == "self":
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["env=2/1", "fd3-listen", "fd4-listen", "fd5-preserved"]
    else:
        # only fd 3 (--preserve-fds 1) reaches the container; no LISTEN_* vars
        assert r.stdout.split()[:2] == ["env=/", "fd3-listen"], r.stdout + r.stderr


NOTIFY_C = r"""
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
int main(int argc, char **argv)
{
	const char *p = getenv("NOTIFY_SOCKET");
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (p == NULL || argc < 2 || strlen(p) >= sizeof(a.sun_path))
		return 2;
	strcpy(a.sun_path, p);
	return sendto(s, argv[1], strlen(argv[1]), 0, (struct sockaddr *)&a, sizeof(a)) < 0;
}
"""


@pytest.mark.parametrize("mode", ["create-start", "run", "create-start-userns"])
def test_notify_socket_relayed(runtime, bundle, tmp_path, mode):
    import socket as so
    if mode.endswith("userns"):
        # root inside is an unprivileged host uid: the socket must still be
        # reachable (the state dir above it is root's, mode 0700)
        for ns in ("user", "network"):
            bundle.set_namespace(ns)
        for k in ("uidMappings", "gidMappings"):
            bundle.linux[k] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        bundle.drop_mount("/sys/fs/cgroup")
        # root inside cannot create mount points in this root-owned rootfs
        os.makedirs(os.path.join(bundle.rootfs, "run", "notify"), exist_ok=True)
    src = tmp_path / "notify.c"
    src.write_text(NOTIFY_C)
    r = run_cmd(["gcc", "-static", "-O2", "-o", os.path.join(bundle.rootfs, "notify"), str(src)],
                timeout=120)
    assert r.returncode == 0, r.stderr
    bundle.set_args("sh", "-c", "echo ns=$NOTIFY_SOCKET; sleep 0.3; /notify STATUS=warming; "
                    "/notify MAINPID=1; /notify READY=1; sleep 0.3")
    bundle.write()
    host = str(tmp_path / "host-notify.sock")
    s = so.socket(so.AF_UNIX, so.SOCK_DGRAM)
    s.bind(host)
    s.settimeout(TIMEOUT)
    env = dict(os.environ, NOTIFY_SOCKET=host)
    try:
        if mode == "run":
            r = run_cmd(runtime.argv("run", "--bundle", bundle.path, bundle.id), env=env)
            assert r.returncode == 0, r.stderr
            assert "ns=/run/notify/notify.sock" in r.stdout
        else:
            runtime.ok("create", "--bundle", bundle.path, bundle.id, env=env)
            pid = runtime.state(bundle.id)["pid"]
            runtime.ok("start", bundle.id, env=env)  # returns once READY=1 came
        msgs = [s.recv(4096).decode(), s.recv(4096).decode()]
    finally:
        s.close()
    assert msgs[0] == "STATUS=warming\n"
    ready = msgs[1].splitlines()
    assert ready[0] == "READY=1" and ready[1].startswith("MAINPID=")
    if mode != "run":
        assert ready[1] == f"MAINPID={pid}"
