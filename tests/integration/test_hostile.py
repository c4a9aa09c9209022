"""Hostile input: container ids, config.json contents, signals and paths out of
range.  Each is refused with one clear line naming the problem, and nothing
is created (state dir, cgroup, mounts, processes) or left behind."""

import json
import os

import pytest

from conftest import IS_RUNC, cgroup_dirs

pytestmark = pytest.mark.skipif(IS_RUNC, reason="hutch-specific messages")


def assert_refused(r, *needles):
    assert r.returncode != 0, f"expected a refusal: {r.stdout}"
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected one line, got {lines}"
    for n in needles:
        assert n in lines[0], f"{n!r} not in {lines[0]!r}"


def assert_nothing_created(runtime):
    if os.path.isdir(runtime.root):
        assert os.listdir(runtime.root) == [], os.listdir(runtime.root)


@pytest.mark.parametrize("cid", ["a/b", "..", ".", "../../etc", "a b", ".x", "a\\b",
                                 "x\ny", "\u00e9", "a" * 2000])
def test_hostile_ids_refused_before_anything(runtime, bundle, cid):
    bundle.write()
    for cmd in (["create", "--bundle", bundle.path], ["run", "--bundle", bundle.path],
                ["state"], ["start"], ["delete", "--force"], ["kill"], ["pause"], ["ps"]):
        r = runtime(*cmd, cid)
        assert r.returncode != 0, (cmd, r.stdout)
        assert "invalid container id" in r.stderr, (cmd, r.stderr)
    assert_nothing_created(runtime)
    for c in ("a", "b", "etc", "x", "y"):
        assert not cgroup_dirs(c)


def test_id_longer_than_a_file_name(runtime, bundle):
    cid = "a" * 300
    bundle.write()
    r = runtime("create", "--bundle", bundle.path, cid)
    assert r.returncode != 0
    assert "too long" in r.stderr.lower() or "longer than" in r.stderr, r.stderr
    assert_nothing_created(runtime)


CONFIGS = {
    "not-json": ("{ this is not json", "invalid JSON"),
    "empty": ("", "invalid JSON"),
    "array": ("[]", "object"),
    "trailing": ('{"ociVersion":"1.3.0"} {}', "JSON"),
    "nested": ("[" * 100000 + "]" * 100000, "JSON"),
    "nul-in-arg": (None, "NUL"),
    "wrong-type-args": (None, "process.args"),
    "uid-out-of-range": (None, "process.user.uid"),
    "negative-gid": (None, "process.user.gid"),
    "bad-cgroups-path": (None, "cgroupsPath"),
    "sysctl-escape": (None, "linux.sysctl"),
    "relative-masked": (None, "linux.maskedPaths[0]"),
    "seccomp-arg-index": (None, "index"),
    "unknown-signal-in-hook-timeout": (None, "timeout"),
    "huge-string": (None, None),
}


def hostile(cfg, kind):
    if kind == "nul-in-arg":
        cfg["process"]["args"] = ["/checker\u0000--evil"]
    elif kind == "wrong-type-args":
        cfg["process"]["args"] = {"0": "sh"}
    elif kind == "uid-out-of-range":
        cfg["process"]["user"]["uid"] = 2 ** 40
    elif kind == "negative-gid":
        cfg["process"]["user"]["gid"] = -5
    elif kind == "bad-cgroups-path":
        cfg["linux"]["cgroupsPath"] = "/../../../../etc"
    elif kind == "sysctl-escape":
        cfg["linux"]["sysctl"] = {"../../../proc/sys/kernel/core_pattern": "|/evil"}
    elif kind == "relative-masked":
        cfg["linux"]["maskedPaths"] = ["etc/passwd"]
    elif kind == "seccomp-arg-index":
        cfg["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            {"names": ["read"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 7, "value": 0, "op": "SCMP_CMP_EQ"}]}]}
    elif kind == "unknown-signal-in-hook-timeout":
        cfg["hooks"] = {"prestart": [{"path": "/bin/true", "timeout": -1}]}
    elif kind == "huge-string":
        cfg["annotations"] = {"k": "x" * (17 << 20)}  # over the 16 MiB config cap
    return cfg


@pytest.mark.parametrize("kind", sorted(CONFIGS))
def test_hostile_config_refused(runtime, bundle, kind):
    text, needle = CONFIGS[kind]
    if text is None:
        text = json.dumps(hostile(json.loads(json.dumps(bundle.config)), kind))
    with open(os.path.join(bundle.path, "config.json"), "w") as f:
        f.write(text)
    r = runtime("create", "--bundle", bundle.path, bundle.id)
    if needle is None:
        assert r.returncode != 0, r.stdout
        assert len(r.stderr) < 4096, "the error must not echo the whole input"
    else:
        assert_refused(r, needle)
    runtime.assert_clean(bundle.id)
    assert_nothing_created(runtime)


@pytest.mark.parametrize("sig", ["0", "65", "99", "-1", "SIGFOO", "1099511627776", "9x", "",
                                 "SIG", "KILLL"])
def test_signals_out_of_range(runtime, bundle, sig):
    bundle.set_args("sleep", "600")
    assert runtime.create(bundle).returncode == 0
    args = ["kill", bundle.id, sig] if not sig.startswith("-") else ["kill", bundle.id, "--", sig]
    r = runtime(*args)
    assert r.returncode != 0, f"signal {sig!r} accepted"
    assert r.stderr.strip(), "no message"
    assert runtime.status(bundle.id) == "created"


def test_bundle_path_too_long(runtime):
    cid = runtime.new_id()
    r = runtime("create", "--bundle", "/" + "x" * 5000, cid)
    assert r.returncode != 0
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, lines
    assert_nothing_created(runtime)


def test_pid_file_in_missing_dir(runtime, bundle):
    bundle.set_args("true")
    r = runtime.create(bundle, "--pid-file", "/nonexistent-dir/x/pid")
    assert r.returncode != 0
    assert "/nonexistent-dir/x/pid" in r.stderr, r.stderr
    runtime.assert_clean(bundle.id)


def test_console_socket_path_too_long(runtime, bundle):
    bundle.process["terminal"] = True
    r = runtime.create(bundle, "--console-socket", "/tmp/" + "s" * 200)
    assert r.returncode != 0
    assert r.stderr.strip()
    runtime.assert_clean(bundle.id)
