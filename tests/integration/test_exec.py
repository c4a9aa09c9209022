"""exec: a new process joins every namespace and the cgroup of a running
container, gets its capabilities, and its exit status comes back."""

import json
import os

import pytest

from conftest import cg_path, cgroup_dirs, cgroup_mode, one, parse_kv, run_cmd, wait_for

LONG = ["sleep", "600"]


def running(runtime, bundle, **extra):
    bundle.set_args(*LONG)
    for ns in ("pid", "ipc", "uts", "mount", "network", "cgroup"):
        bundle.set_namespace(ns)
    bundle.config["hostname"] = "exec-host"
    runtime.run_ok(bundle, "--detach")
    return bundle.id


def test_exec_joins_namespaces_and_cgroup(runtime, bundle):
    cid = running(runtime, bundle)
    pid = runtime.state(cid)["pid"]
    r = runtime.ok("exec", cid, "/checker", "ns", "hostname", "pid", "cgroup")
    kv = parse_kv(r.stdout)
    for ns in ("pid", "ipc", "uts", "mnt", "net", "cgroup"):
        assert one(kv, f"ns.{ns}") == os.readlink(f"/proc/{pid}/ns/{ns}"), ns
    assert one(kv, "hostname") == "exec-host"
    assert int(one(kv, "pid")) > 1
    # same cgroups as the init, seen from inside its cgroup namespace
    init_cg = runtime.ok("exec", cid, "cat", "/proc/1/cgroup").stdout.split()
    assert sorted(kv["cgroup"]) == sorted(init_cg)
    assert all(line.endswith(":/") for line in init_cg), init_cg


def test_exec_exit_status_and_stdio(runtime, bundle):
    cid = running(runtime, bundle)
    r = runtime("exec", cid, "sh", "-c", "echo out; echo err >&2; exit 42")
    assert r.returncode == 42
    assert r.stdout == "out\n" and r.stderr == "err\n"
    r = run_cmd(runtime.argv("exec", cid, "cat"), input="through stdin")
    assert r.stdout == "through stdin"


def test_exec_flags_user_env_cwd(runtime, bundle):
    cid = running(runtime, bundle)
    r = runtime.ok("exec", "-u", "65534:65534", "--cwd", "/tmp", "-e", "FOO=bar", cid,
                   "/checker", "ids", "cwd", "env")
    kv = parse_kv(r.stdout)
    assert one(kv, "uid") == "65534" and one(kv, "gid") == "65534"
    assert one(kv, "cwd") == "/tmp"
    assert "FOO=bar" in kv["env"]


def test_exec_process_file_and_pid_file(runtime, bundle, tmp_path):
    cid = running(runtime, bundle)
    proc = {"args": ["sh", "-c", "exec sleep 30"], "cwd": "/", "env": ["PATH=/bin"],
            "user": {"uid": 0, "gid": 0}}
    pf = tmp_path / "p.json"
    pf.write_text(json.dumps(proc))
    pidf = tmp_path / "exec.pid"
    runtime.ok("exec", "--process", str(pf), "--detach", "--pid-file", str(pidf), cid)
    pid = int(pidf.read_text())

    def cmdline():
        with open(f"/proc/{pid}/cmdline") as f:
            return f.read().split("\0")[:2]
    # sh execs sleep a moment after hutch returns: wait (bounded) for it
    wait_for(lambda: cmdline() == ["sleep", "30"], timeout=5)
    assert cmdline() == ["sleep", "30"]
    init = runtime.state(cid)["pid"]
    assert os.readlink(f"/proc/{pid}/ns/pid") == os.readlink(f"/proc/{init}/ns/pid")


def test_exec_caps_from_container_and_cap_flag(runtime, bundle):
    cid = running(runtime, bundle)
    kv = parse_kv(runtime.ok("exec", cid, "/checker", "caps").stdout)
    default = int(one(kv, "cap.CapEff"), 16)
    kv = parse_kv(runtime.ok("exec", "--cap", "CAP_SYS_ADMIN", cid, "/checker", "caps").stdout)
    assert int(one(kv, "cap.CapEff"), 16) == default | (1 << 21)
    r = runtime("exec", "--cap", "CAP_NOPE", cid, "true")
    assert r.returncode != 0 and "CAP_NOPE" in r.stderr


def test_exec_missing_binary_and_stopped(runtime, bundle):
    cid = running(runtime, bundle)
    r = runtime("exec", cid, "/no/such/thing")
    assert r.returncode != 0 and "/no/such/thing" in r.stderr
    runtime.ok("kill", cid, "KILL")
    runtime.wait_status(cid, "stopped")
    r = runtime("exec", cid, "true")
    assert r.returncode != 0 and "stopped" in r.stderr


def test_exec_process_scheduling_and_affinity(runtime, bundle, tmp_path):
    """exec --process applies the process's own scheduler, ioPriority and
    execCPUAffinity, like the container's init."""
    cid = running(runtime, bundle)
    proc = {"args": ["sh", "-c", "grep Cpus_allowed_list /proc/self/status; "
                     "cat /proc/self/stat"],
            "cwd": "/", "env": ["PATH=/bin"], "user": {"uid": 0, "gid": 0},
            "scheduler": {"policy": "SCHED_BATCH", "nice": 7},
            "ioPriority": {"class": "IOPRIO_CLASS_IDLE", "priority": 0},
            "execCPUAffinity": {"final": "0"}}
    pf = tmp_path / "p.json"
    pf.write_text(json.dumps(proc))
    r = runtime.ok("exec", "--process", str(pf), cid)
    lines = r.stdout.splitlines()
    assert lines[0].split()[-1] == "0", lines
    stat = lines[1].rsplit(")", 1)[1].split()
    # fields after "(comm)": nice is field 19 overall, policy field 41
    assert stat[19 - 3] == "7", stat
    assert stat[41 - 3] == "3", stat  # SCHED_BATCH


def test_exec_apparmor_refused_without_apparmor(runtime, bundle):
    if os.path.exists("/sys/module/apparmor/parameters/enabled"):
        with open("/sys/module/apparmor/parameters/enabled") as f:
            if f.read().strip() == "Y":
                return  # the host has AppArmor: nothing to refuse here
    cid = running(runtime, bundle)
    r = runtime("exec", "--apparmor", "some-profile", cid, "true")
    assert r.returncode != 0 and "AppArmor" in r.stderr


def cgroup_lines(text):
    """{controllers: path} of /proc/self/cgroup text."""
    return {line.split(":", 2)[1]: line.split(":", 2)[2] for line in text.split()}


def test_exec_cgroup_one_controller(runtime, bundle):
    """exec --cgroup pids:sub: that hierarchy's sub-cgroup, the others the
    container's own (seen from its cgroup namespace: "/")."""
    cid = running(runtime, bundle)
    sub = cg_path("pids", cid, "sub")
    os.mkdir(sub)
    r = runtime.ok("exec", "--cgroup", "pids:sub", cid, "cat", "/proc/self/cgroup")
    lines = cgroup_lines(r.stdout)
    key = "" if cgroup_mode() == "unified" else "pids"
    assert lines[key] == "/sub", r.stdout
    assert all(p == "/" for k, p in lines.items() if k != key), r.stdout
    # without --cgroup: the container's cgroup, not the sub-cgroup
    r = runtime.ok("exec", cid, "cat", "/proc/self/cgroup")
    assert set(cgroup_lines(r.stdout).values()) == {"/"}, r.stdout
    # delete removes the sub-cgroup with the container's
    runtime.ok("delete", "--force", cid)
    assert not os.path.exists(sub)


def test_exec_cgroup_every_hierarchy(runtime, bundle):
    cid = running(runtime, bundle)
    dirs = cgroup_dirs(cid)
    assert dirs
    for d in dirs:
        os.mkdir(os.path.join(d, "s1"))
        for f in ("cpuset.cpus", "cpuset.mems"):  # v1 cpuset: nothing joins without
            if os.path.exists(os.path.join(d, f)) and not os.path.exists(
                    os.path.join(d, "cgroup.controllers")):
                with open(os.path.join(d, "s1", f), "w") as out:
                    out.write(open(os.path.join(d, f)).read())
    r = runtime.ok("exec", "--cgroup", "s1", cid, "cat", "/proc/self/cgroup")
    assert set(cgroup_lines(r.stdout).values()) == {"/s1"}, r.stdout
    runtime.ok("delete", "--force", cid)
    assert not any(os.path.exists(d) for d in dirs)


@pytest.mark.parametrize("arg,text", [
    ("../x", "relative path without"),
    ("/abs", "relative path without"),
    ("a/../b", "relative path without"),
    ("nope:sub", 'no cgroup hierarchy of the container has the "nope" controller'),
    (":sub", "no controller before"),
    ("missing", "it must exist"),
])
def test_exec_cgroup_refused(runtime, bundle, arg, text):
    cid = running(runtime, bundle)
    before = runtime.ok("ps", "--format", "json", cid).stdout
    r = runtime("exec", "--cgroup", arg, cid, "true")
    assert r.returncode != 0 and "--cgroup" in r.stderr and text in r.stderr, r.stderr
    # no process was started
    assert runtime.ok("ps", "--format", "json", cid).stdout == before


def test_exec_cgroup_bare_cpuset(runtime, bundle):
    """A new v1 cpuset cgroup takes no task until its cpus and mems are set:
    the error says so.  (cgroup2's cpuset inherits them: the join works.)"""
    cid = running(runtime, bundle)
    os.mkdir(cg_path("cpuset", cid, "bare"))
    r = runtime("exec", "--cgroup", "cpuset:bare", cid, "cat", "/proc/self/cgroup")
    if cgroup_mode() == "unified":
        assert r.returncode == 0 and "0::/bare" in r.stdout, r.stderr
    else:
        assert r.returncode != 0 and "cpuset.cpus and cpuset.mems" in r.stderr, r.stderr
