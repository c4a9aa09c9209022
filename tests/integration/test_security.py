"""Process security: seccomp (actions, errnoRet, flags, notify with a listener),
capabilities against hutch's own bounding set, scheduler, ioPriority,
execCPUAffinity, personality, AppArmor/SELinux/intelRdt host checks, the
session keyring.  The container reports what it sees through /checker."""

import array
import ctypes
import json
import os
import socket
import struct
import threading

import pytest

from conftest import TIMEOUT, one


def errno_rule(names, ret):
    return {"names": names, "action": "SCMP_ACT_ERRNO", "errnoRet": ret}


def seccomp(*rules, default="SCMP_ACT_ALLOW", **extra):
    prof = {"defaultAction": default, "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": list(rules)}
    prof.update(extra)
    return prof


def assert_refused(runtime, bundle, *needles):
    r = runtime.run(bundle)
    assert r.returncode != 0, f"expected a refusal, got 0: {r.stdout}"
    for n in needles:
        assert n in r.stderr, f"{n!r} not in: {r.stderr}"
    runtime.assert_clean(bundle.id)
    return r


# ---- seccomp -----------------------------------------------------------------


def test_seccomp_errno_ret_and_mode(runtime, bundle):
    bundle.linux["seccomp"] = seccomp(errno_rule(["mkdir", "mkdirat"], 42))
    bundle.set_args("/checker", "mkdir", "/tmp/x")
    r = runtime.run_ok(bundle)
    assert "mkdir.errno=42" in r.stdout, r.stdout
    kv = runtime.check(bundle, "seccomp")
    assert one(kv, "seccomp").split()[-1] == "2", kv


def test_seccomp_absent_means_mode_0(runtime, bundle):
    bundle.linux.pop("seccomp", None)
    kv = runtime.check(bundle, "seccomp")
    assert one(kv, "seccomp").split()[-1] == "0", kv


def test_seccomp_default_errno_ret(runtime, bundle):
    # everything the checker needs is allowed; mkdir falls to the default
    allow = ["execve", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq",
             "prlimit64", "mprotect", "readlink", "readlinkat", "getrandom", "write",
             "exit_group", "exit", "newfstatat", "fstat", "mmap", "munmap", "uname",
             "ioctl", "close", "futex", "rt_sigaction", "rt_sigprocmask"]
    bundle.linux["seccomp"] = seccomp({"names": allow, "action": "SCMP_ACT_ALLOW"},
                                      default="SCMP_ACT_ERRNO", defaultErrnoRet=7)
    bundle.set_args("/checker", "mkdir", "/tmp/y")
    r = runtime.run_ok(bundle)
    assert "mkdir.errno=7" in r.stdout, r.stdout


def test_seccomp_kill_process(runtime, bundle):
    bundle.linux["seccomp"] = seccomp({"names": ["mkdir", "mkdirat"],
                                       "action": "SCMP_ACT_KILL_PROCESS"})
    bundle.set_args("/checker", "mkdir", "/tmp/z")
    r = runtime.run(bundle)
    assert r.returncode == 128 + 31, (r.returncode, r.stdout, r.stderr)  # SIGSYS
    assert "mkdir.errno" not in r.stdout


@pytest.mark.parametrize("action,expect", [
    ("SCMP_ACT_KILL", "signal"),          # = kill thread; the checker has one
    ("SCMP_ACT_KILL_THREAD", "signal"),
    ("SCMP_ACT_TRAP", "signal"),          # SIGSYS, not handled: the process dies
    ("SCMP_ACT_TRACE", "mkdir.errno=38"),  # no tracer attached: ENOSYS
    ("SCMP_ACT_LOG", "mkdir.errno=0"),     # logged and allowed
    ("SCMP_ACT_ALLOW", "mkdir.errno=0"),
])
def test_seccomp_actions(runtime, bundle, action, expect):
    bundle.linux["seccomp"] = seccomp({"names": ["mkdir", "mkdirat"], "action": action})
    bundle.set_args("/checker", "mkdir", "/tmp/act")
    r = runtime.run(bundle)
    if expect == "signal":
        assert r.returncode == 128 + 31, (r.returncode, r.stdout, r.stderr)  # SIGSYS
        assert "mkdir.errno" not in r.stdout
    else:
        assert r.returncode == 0, r.stderr
        assert expect in r.stdout, r.stdout


def test_seccomp_argument_condition(runtime, bundle):
    # mkdir with mode 0755 is refused, other modes pass: only the arg decides
    rule = errno_rule(["mkdir"], 33)
    rule["args"] = [{"index": 1, "value": 0o755, "op": "SCMP_CMP_EQ"}]
    bundle.linux["seccomp"] = seccomp(rule)
    bundle.set_args("/checker", "mkdir", "/tmp/a")
    r = runtime.run_ok(bundle)
    assert "mkdir.errno=33" in r.stdout, r.stdout
    rule["args"][0]["value"] = 0o700
    bundle.set_args("/checker", "mkdir", "/tmp/a")
    r = runtime.run_ok(bundle)
    assert "mkdir.errno=0" in r.stdout, r.stdout


def test_seccomp_with_nnp_and_user_switch(runtime, bundle):
    bundle.process["noNewPrivileges"] = True
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    bundle.linux["seccomp"] = seccomp(errno_rule(["mkdir", "mkdirat"], 42),
                                      flags=["SECCOMP_FILTER_FLAG_LOG",
                                             "SECCOMP_FILTER_FLAG_SPEC_ALLOW"])
    bundle.set_args("/checker", "mkdir", "/tmp/x")
    r = runtime.run_ok(bundle)
    assert "mkdir.errno=42" in r.stdout, r.stdout


def test_seccomp_unknown_syscall_name_skipped(runtime, bundle):
    bundle.linux["seccomp"] = seccomp(errno_rule(["mkdir", "no_such_syscall_xyz"], 42))
    bundle.set_args("/checker", "mkdir", "/tmp/x")
    r = runtime.run_ok(bundle)
    assert "mkdir.errno=42" in r.stdout, r.stdout


def test_seccomp_wait_killable_recv_without_notify_refused(runtime, bundle):
    bundle.linux["seccomp"] = seccomp(errno_rule(["mkdir"], 42),
                                      flags=["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"])
    assert_refused(runtime, bundle, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", "NOTIFY")


def test_seccomp_notify_without_listener_refused(runtime, bundle):
    bundle.linux["seccomp"] = seccomp({"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"})
    assert_refused(runtime, bundle, "listenerPath")


def test_seccomp_notify_default_action_refused(runtime, bundle, tmp_path):
    bundle.linux["seccomp"] = seccomp(default="SCMP_ACT_NOTIFY",
                                      listenerPath=str(tmp_path / "l.sock"))
    assert_refused(runtime, bundle, "defaultAction", "SCMP_ACT_NOTIFY")


def test_seccomp_notify_unreachable_listener(runtime, bundle, tmp_path):
    bundle.linux["seccomp"] = seccomp({"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"},
                                      listenerPath=str(tmp_path / "nobody.sock"))
    assert_refused(runtime, bundle, "nobody.sock")


# struct seccomp_notif (80 bytes) and seccomp_notif_resp (24 bytes)
NOTIF_RECV = 0xC0502100
NOTIF_SEND = 0xC0182101


class Listener:
    """A seccomp agent: takes the fd and the state, answers every notified
    call with -ERRNO."""

    def __init__(self, path, errno_ret):
        self.path = path
        self.errno_ret = errno_ret
        self.state = None
        self.nr_seen = []
        self.error = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.sock.settimeout(TIMEOUT)
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        import fcntl
        try:
            conn, _ = self.sock.accept()
            with conn:
                msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
                self.state = json.loads(msg.decode())
                self.fds = fds
            fd = fds[0]
            buf = bytearray(80)
            fcntl.ioctl(fd, NOTIF_RECV, buf, True)
            nid, pid, flags, nr = struct.unpack_from("=QIIi", buf, 0)
            self.nr_seen.append(nr)
            resp = bytearray(struct.pack("=QqiI", nid, 0, -self.errno_ret, 0))
            fcntl.ioctl(fd, NOTIF_SEND, resp, True)
            os.close(fd)
        except Exception as e:  # reported by the test
            self.error = e

    def close(self):
        self.sock.close()


def test_seccomp_notify_listener_gets_fd_and_state(runtime, bundle, tmp_path):
    path = str(tmp_path / "agent.sock")
    lst = Listener(path, 61)  # ENODATA
    try:
        bundle.linux["seccomp"] = seccomp(
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"},
            listenerPath=path, listenerMetadata="hello=world",
            flags=["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"])
        bundle.set_args("/checker", "mkdir", "/tmp/n")
        r = runtime.run_ok(bundle)
        lst.thread.join(TIMEOUT)
        assert lst.error is None, lst.error
        assert "mkdir.errno=61" in r.stdout, (r.stdout, r.stderr)
        st = lst.state
        assert st["fds"] == ["seccompFd"], st
        assert st["metadata"] == "hello=world", st
        assert st["state"]["id"] == bundle.id, st
        assert st["pid"] == st["state"]["pid"] and st["pid"] > 0, st
        assert st["ociVersion"].startswith("1."), st
        assert lst.nr_seen == [83] or lst.nr_seen == [258], lst.nr_seen  # mkdir(at)
    finally:
        lst.close()


# ---- capabilities ------------------------------------------------------------


def host_bounding():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapBnd:"):
                return int(line.split()[1], 16)
    return 0


def test_capability_missing_from_host_bounding_set_named(runtime, bundle):
    if host_bounding() & (1 << 24):
        pytest.skip("this host has CAP_SYS_RESOURCE in its bounding set")
    bundle.process["capabilities"]["bounding"].append("CAP_SYS_RESOURCE")
    assert_refused(runtime, bundle, "CAP_SYS_RESOURCE", "bounding")


def test_caps_reported_from_status(runtime, bundle):
    bundle.process["capabilities"] = {k: ["CAP_KILL"] for k in
                                      ("bounding", "effective", "permitted")}
    kv = runtime.check(bundle, "caps")
    assert one(kv, "cap.CapEff") == "%016x" % (1 << 5)
    assert one(kv, "cap.CapInh") == "0" * 16
    assert one(kv, "cap.CapAmb") == "0" * 16


# ---- scheduler, ioPriority, execCPUAffinity, personality -------------------------


def test_scheduler_batch_with_nice(runtime, bundle):
    bundle.process["scheduler"] = {"policy": "SCHED_BATCH", "nice": 5}
    kv = runtime.check(bundle, "sched")
    assert one(kv, "sched.policy") == "3", kv
    assert one(kv, "sched.nice") == "5", kv


def test_scheduler_fifo_priority(runtime, bundle):
    bundle.process["scheduler"] = {"policy": "SCHED_FIFO", "priority": 10}
    if os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"):
        # cgroup v1 with RT group scheduling: a new cgroup has no real-time
        # runtime, so the kernel refuses; hutch must say why.
        r = runtime.run(bundle)
        assert r.returncode != 0
        assert "process.scheduler" in r.stderr and "realtimeRuntime" in r.stderr, r.stderr
        return
    kv = runtime.check(bundle, "sched")
    assert one(kv, "sched.policy") == "1", kv
    assert one(kv, "sched.priority") == "10", kv


def test_scheduler_invalid_priority_clear_error(runtime, bundle):
    bundle.process["scheduler"] = {"policy": "SCHED_FIFO", "priority": 1000}
    r = runtime.run(bundle)
    assert r.returncode != 0
    assert "process.scheduler" in r.stderr, r.stderr


def test_io_priority(runtime, bundle):
    bundle.process["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 6}
    kv = runtime.check(bundle, "sched")
    assert one(kv, "ioprio.class") == "2", kv
    assert one(kv, "ioprio.level") == "6", kv


def test_exec_cpu_affinity_final(runtime, bundle):
    if os.cpu_count() < 2:
        pytest.skip("needs two cpus")
    bundle.process["execCPUAffinity"] = {"initial": "0", "final": "1"}
    kv = runtime.check(bundle, "sched")
    assert one(kv, "affinity") == "1", kv


def test_exec_cpu_affinity_initial_only(runtime, bundle):
    bundle.process["execCPUAffinity"] = {"initial": "0"}
    kv = runtime.check(bundle, "sched")
    assert one(kv, "affinity") == "0", kv


def test_exec_cpu_affinity_out_of_range(runtime, bundle):
    bundle.process["execCPUAffinity"] = {"final": "4000"}
    r = runtime.run(bundle)
    assert r.returncode != 0
    assert "execCPUAffinity" in r.stderr, r.stderr


def test_personality_linux32(runtime, bundle):
    bundle.linux["personality"] = {"domain": "LINUX32"}
    kv = runtime.check(bundle, "personality")
    assert one(kv, "personality") == "0x8", kv
    assert one(kv, "machine") in ("i686", "i386"), kv


def test_personality_flags(runtime, bundle):
    bundle.linux["personality"] = {"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]}
    kv = runtime.check(bundle, "personality")
    assert one(kv, "personality") == "0x40000", kv
    assert one(kv, "machine") == "x86_64", kv


def test_personality_unknown_flag_refused(runtime, bundle):
    bundle.linux["personality"] = {"domain": "LINUX", "flags": ["NOT_A_FLAG"]}
    assert_refused(runtime, bundle, "NOT_A_FLAG")


# ---- LSMs, intelRdt, keyring -------------------------------------------------


def test_apparmor_profile_without_apparmor_refused(runtime, bundle):
    try:
        with open("/sys/module/apparmor/parameters/enabled") as f:
            if f.read().startswith("Y"):
                pytest.skip("this host has AppArmor")
    except OSError:
        pass
    bundle.process["apparmorProfile"] = "hutch-test-profile"
    assert_refused(runtime, bundle, "apparmorProfile", "AppArmor")


def test_selinux_label_ignored_with_warning(runtime, bundle):
    if os.path.exists("/sys/fs/selinux/enforce"):
        pytest.skip("this host has SELinux")
    bundle.process["selinuxLabel"] = "system_u:system_r:container_t:s0"
    bundle.set_args("/checker", "nnp")
    r = runtime.run_ok(bundle)
    assert "selinuxLabel" in r.stderr and "ignored" in r.stderr, r.stderr
    assert "nnp=" in r.stdout


def test_intel_rdt_without_resctrl_refused(runtime, bundle):
    if os.path.ismount("/sys/fs/resctrl"):
        pytest.skip("this host has resctrl mounted")
    bundle.linux["intelRdt"] = {"closID": "hutch-test"}
    assert_refused(runtime, bundle, "linux.intelRdt", "resctrl")


def test_new_session_keyring(runtime, bundle):
    kv = runtime.check(bundle, "keyring")
    desc = one(kv, "keyring")
    assert desc.startswith("keyring;"), desc
    assert desc.endswith(f";_ses.{bundle.id}"), desc


def test_no_new_keyring(runtime, bundle):
    bundle.set_args("/checker", "keyring")
    r = runtime.run_ok(bundle, "--no-new-keyring")
    assert f"_ses.{bundle.id}" not in r.stdout, r.stdout


def test_oom_score_adj_reported(runtime, bundle):
    bundle.process["oomScoreAdj"] = 123
    kv = runtime.check(bundle, "oom")
    assert one(kv, "oom") == "123"


def test_seccomp_several_architectures(runtime, bundle):
    prof = seccomp(errno_rule(["mkdir", "mkdirat"], 42))
    prof["architectures"] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    bundle.linux["seccomp"] = prof
    bundle.set_args("/checker", "mkdir", "/tmp/x")
    r = runtime.run_ok(bundle)
    assert "mkdir.errno=42" in r.stdout, r.stdout


def test_seccomp_unknown_architecture_refused(runtime, bundle):
    prof = seccomp(errno_rule(["mkdir"], 42))
    prof["architectures"] = ["SCMP_ARCH_PDP11"]
    bundle.linux["seccomp"] = prof
    assert_refused(runtime, bundle, "SCMP_ARCH_PDP11")
