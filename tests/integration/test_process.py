"""Process: args, env, cwd, user, umask, rlimits, noNewPrivileges, oomScoreAdj,
capabilities, terminal with --console-socket."""

import os

import pytest

from conftest import ConsoleSocket, one, parse_kv, pid_alive, run_cmd


def caps_mask(*names):
    bits = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_KILL": 5, "CAP_SETUID": 7,
            "CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13, "CAP_SYS_ADMIN": 21,
            "CAP_AUDIT_WRITE": 29}
    mask = 0
    for n in names:
        mask |= 1 << bits[n]
    return "%016x" % mask


def test_args_passed_verbatim(runtime, bundle):
    bundle.set_args("sh", "-c", 'for a in "$@"; do echo "[$a]"; done', "zero", "a b", "", "*")
    r = runtime.run_ok(bundle)
    assert r.stdout.splitlines() == ["[a b]", "[]", "[*]"]


def test_env(runtime, bundle):
    bundle.process["env"] = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "FOO=bar baz", "EMPTY="]
    kv = runtime.check(bundle, "env")
    env = kv["env"]
    assert "FOO=bar baz" in env and "EMPTY=" in env
    assert "PATH=/usr/sbin:/usr/bin:/sbin:/bin" in env
    # nothing leaks from the runtime's own environment
    assert not any(e.startswith("PYTEST_") for e in env), env


def test_args0_resolved_via_path(runtime, bundle):
    bundle.process["env"] = ["PATH=/usr/bin:/bin"]
    bundle.set_args("echo", "via-path")
    r = runtime.run_ok(bundle)
    assert r.stdout.strip() == "via-path"


def test_cwd(runtime, bundle):
    os.makedirs(os.path.join(bundle.rootfs, "work", "dir"))
    bundle.process["cwd"] = "/work/dir"
    kv = runtime.check(bundle, "cwd")
    assert one(kv, "cwd") == "/work/dir"


def test_user_uid_gid_additional_gids(runtime, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [5, 100]}
    kv = runtime.check(bundle, "ids")
    assert one(kv, "uid") == "1000" and one(kv, "euid") == "1000"
    assert one(kv, "gid") == "1000" and one(kv, "egid") == "1000"
    assert sorted(one(kv, "groups").split(",")) == ["100", "5"]


def test_user_without_additional_gids_has_no_groups(runtime, bundle):
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    kv = runtime.check(bundle, "ids")
    assert one(kv, "groups") in ("", "1000")


def test_umask(runtime, bundle):
    bundle.process["user"] = {"uid": 0, "gid": 0, "umask": 0o027}
    bundle.set_args("sh", "-c", "/checker umask; touch /tmp/f; stat -c 'perm=%a' /tmp/f")
    kv = parse_kv(runtime.run_ok(bundle).stdout)
    assert one(kv, "umask") == "0027"
    assert one(kv, "perm") == "640"


def test_rlimits_nofile(runtime, bundle):
    bundle.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 321, "hard": 654},
                                 {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]
    kv = runtime.check(bundle, "rlimits")
    assert one(kv, "rlimit.NOFILE") == "321 654"
    assert one(kv, "rlimit.CORE") == "0 0"


def test_rlimit_unknown_type_refused(runtime, bundle):
    bundle.process["rlimits"] = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]
    r = runtime.run(bundle)
    assert r.returncode != 0
    assert "RLIMIT_BOGUS" in r.stderr
    runtime.assert_clean(bundle.id)


def test_no_new_privileges_true(runtime, bundle):
    bundle.process["noNewPrivileges"] = True
    assert one(runtime.check(bundle, "nnp"), "nnp") == "1"


def test_no_new_privileges_false(runtime, bundle):
    bundle.process["noNewPrivileges"] = False
    assert one(runtime.check(bundle, "nnp"), "nnp") == "0"


def test_oom_score_adj(runtime, bundle):
    bundle.process["oomScoreAdj"] = 456
    assert one(runtime.check(bundle, "oom"), "oom") == "456"


def test_capabilities_exact(runtime, bundle):
    caps = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    bundle.process["capabilities"] = {k: list(caps) for k in
                                      ("bounding", "effective", "inheritable", "permitted",
                                       "ambient")}
    kv = runtime.check(bundle, "caps")
    want = caps_mask(*caps)
    for k in ("CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb"):
        assert one(kv, f"cap.{k}") == want, (k, kv)


def test_capabilities_distinct_sets(runtime, bundle):
    bundle.process["capabilities"] = {
        "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID"],
        "permitted": ["CAP_CHOWN", "CAP_KILL"],
        "effective": ["CAP_CHOWN", "CAP_KILL"],
        "inheritable": [],
        "ambient": [],
    }
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    kv = runtime.check(bundle, "caps")
    # a non-root user without ambient caps ends up with none after execve
    assert one(kv, "cap.CapBnd") == caps_mask("CAP_CHOWN", "CAP_KILL", "CAP_SETUID")
    assert one(kv, "cap.CapEff") == "0" * 16
    assert one(kv, "cap.CapPrm") == "0" * 16


def test_ambient_capabilities_non_root(runtime, bundle):
    caps = ["CAP_NET_BIND_SERVICE"]
    bundle.process["capabilities"] = {k: list(caps) for k in
                                      ("bounding", "effective", "inheritable", "permitted",
                                       "ambient")}
    bundle.process["user"] = {"uid": 1000, "gid": 1000}
    kv = runtime.check(bundle, "caps", "ids")
    assert one(kv, "uid") == "1000"
    assert one(kv, "cap.CapAmb") == caps_mask(*caps)
    assert one(kv, "cap.CapEff") == caps_mask(*caps)


def test_no_capabilities(runtime, bundle):
    bundle.process["capabilities"] = {}
    kv = runtime.check(bundle, "caps")
    for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb", "CapInh"):
        assert one(kv, f"cap.{k}") == "0" * 16, (k, kv)


def test_unknown_capability_refused(runtime, bundle):
    bundle.process["capabilities"]["bounding"].append("CAP_NOT_A_THING")
    r = runtime.run(bundle)
    assert r.returncode != 0, "unknown capability must be refused"
    assert "CAP_NOT_A_THING" in r.stderr
    runtime.assert_clean(bundle.id)


def test_stdio_fds(runtime, bundle):
    kv = runtime.check(bundle, "fds")
    fds = sorted(int(k.split(".")[1]) for k in kv if k.startswith("fd."))
    assert fds == [0, 1, 2], kv


def test_preserve_fds(runtime, bundle, tmp_path):
    extra = tmp_path / "extra.txt"
    extra.write_text("x")
    bundle.set_args("/checker", "fds")
    bundle.write()
    # a shell opens fds 3 and 4 and execs the runtime with them
    argv = runtime.argv("run", "--preserve-fds", "2", "--bundle", bundle.path, bundle.id)
    r = run_cmd(["sh", "-c", 'exec 3<"$0" 4<"$0" 5<"$0"; exec "$@"', str(extra), *argv])
    assert r.returncode == 0, r.stderr
    kv = parse_kv(r.stdout)
    assert one(kv, "fd.3").endswith("extra.txt")
    assert one(kv, "fd.4").endswith("extra.txt")
    assert "fd.5" not in kv, "fd beyond --preserve-fds leaked into the container"


def test_terminal_console_socket(runtime, bundle, tmp_path):
    sockpath = str(tmp_path / "console.sock")
    cs = ConsoleSocket(sockpath)
    try:
        bundle.process["terminal"] = True
        bundle.set_args("sh", "-c", "echo hello-tty; tty; [ -t 0 ] && echo stdin-is-tty; "
                        "sleep 1")
        r = runtime.create(bundle, "--console-socket", sockpath)
        assert r.returncode == 0, r.stderr
        master = cs.wait()
        assert cs.error is None, cs.error
        assert master is not None, "no pty master received over the console socket"
        runtime.ok("start", bundle.id)
        out = cs.read_all(timeout=10)
        assert "hello-tty" in out
        assert "/dev/pts/0" in out
        assert "stdin-is-tty" in out
    finally:
        cs.close()


def test_terminal_without_console_socket_fails_for_create(runtime, bundle):
    bundle.process["terminal"] = True
    r = runtime.create(bundle)
    assert r.returncode != 0
    assert r.stderr.strip()
    runtime.assert_clean(bundle.id)


def test_process_waits_as_pid_until_start(runtime, bundle):
    bundle.set_args("sleep", "600")
    assert runtime.create(bundle).returncode == 0
    pid = runtime.state(bundle.id)["pid"]
    assert pid_alive(pid)
    comm = open(f"/proc/{pid}/comm").read().strip()
    assert comm != "sleep", "user process ran before start"
    runtime.ok("start", bundle.id)
    assert runtime.state(bundle.id)["pid"] == pid


def mempolicy(kv):
    return (int(one(kv, "mempolicy.mode")), int(one(kv, "mempolicy.flags")),
            (kv.get("mempolicy.nodes") or [""])[0])


def test_memory_policy(runtime, bundle):
    # without one: the default policy (so the asserts below can fail)
    assert mempolicy(runtime.check(bundle, "mempolicy")) == (0, 0, "")
    bundle.linux["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": "0",
                                    "flags": ["MPOL_F_STATIC_NODES"]}
    # MPOL_BIND = 2, MPOL_F_STATIC_NODES = 1 << 15
    assert mempolicy(runtime.check(bundle, "mempolicy")) == (2, 1 << 15, "0")


def test_memory_policy_interleave_and_exec(runtime, bundle):
    bundle.linux["memoryPolicy"] = {"mode": "MPOL_INTERLEAVE", "nodes": "0"}
    bundle.set_args("sleep", "600")
    try:
        assert runtime.create(bundle).returncode == 0
        runtime.ok("start", bundle.id)
        # a process exec'd into the container gets the container's policy
        kv = parse_kv(runtime.ok("exec", bundle.id, "/checker", "mempolicy").stdout)
        assert mempolicy(kv) == (3, 0, "0")  # MPOL_INTERLEAVE
    finally:
        runtime("delete", "--force", bundle.id)
    runtime.assert_clean(bundle.id)


MEMPOLICY_ERRORS = {
    "unknown-mode": ({"mode": "MPOL_NOPE"}, "unknown memory policy mode"),
    "bind-without-nodes": ({"mode": "MPOL_BIND"}, "needs at least one node"),
    "local-with-nodes": ({"mode": "MPOL_LOCAL", "nodes": "0"}, "takes no nodes"),
    "bad-node-list": ({"mode": "MPOL_BIND", "nodes": "0-"}, "invalid node list"),
    "static-and-relative": ({"mode": "MPOL_BIND", "nodes": "0",
                             "flags": ["MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES"]},
                            "exclude each other"),
    "unknown-flag": ({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_NOPE"]},
                     "unknown memory policy flag"),
    # parses, but the kernel refuses it: this host has no node 1000
    "absent-node": ({"mode": "MPOL_BIND", "nodes": "1000"}, "set_mempolicy(MPOL_BIND"),
}


@pytest.mark.parametrize("case", sorted(MEMPOLICY_ERRORS))
def test_memory_policy_refused(runtime, bundle, case):
    policy, text = MEMPOLICY_ERRORS[case]
    bundle.linux["memoryPolicy"] = policy
    bundle.set_args("true")
    r = runtime.run(bundle)
    assert r.returncode != 0, f"{case} must be refused"
    assert "linux.memoryPolicy" in r.stderr and text in r.stderr, r.stderr
    runtime.assert_clean(bundle.id)
