"""Hooks: each at its point of the lifecycle, in its namespaces, with the state
JSON on stdin, args, env, timeout; failure handling per config.md."""

import json
import os
import time

from conftest import pid_alive, wait_for

POINTS = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart",
          "poststop"]


def setup_hookdir(bundle):
    """A host dir also bind-mounted at the same path inside the container, so
    hooks running before or after pivot_root can write to it."""
    d = os.path.join(bundle.path, "hooks")
    os.makedirs(d)
    bundle.add_mount(d, "bind", d, ["rbind", "rw"])
    return d


def recorder(d, name):
    script = (f'echo {name} >> {d}/order; cat > {d}/{name}.json; '
              f'readlink /proc/self/ns/mnt > {d}/{name}.mnt')
    return {"path": "/bin/sh", "args": ["sh", "-c", script]}


def read_json(d, name):
    with open(os.path.join(d, f"{name}.json")) as f:
        return json.load(f)


def order(d):
    p = os.path.join(d, "order")
    return open(p).read().split() if os.path.exists(p) else []


def test_hooks_run_in_order_with_state(runtime, bundle):
    d = setup_hookdir(bundle)
    bundle.config["hooks"] = {p: [recorder(d, p)] for p in POINTS}
    bundle.set_args("sleep", "600")
    r = runtime.create(bundle)
    assert r.returncode == 0, r.stderr
    assert order(d) == ["prestart", "createRuntime", "createContainer"]
    pid = runtime.state(bundle.id)["pid"]

    runtime.ok("start", bundle.id)
    assert order(d)[3:] == ["startContainer", "poststart"]

    runtime.ok("kill", bundle.id, "KILL")
    runtime.wait_status(bundle.id, "stopped")
    assert len(order(d)) == 5, "poststop ran before delete"
    runtime.ok("delete", bundle.id)
    assert order(d) == POINTS

    for p in POINTS:
        st = read_json(d, p)
        assert st["id"] == bundle.id, (p, st)
        assert os.path.realpath(st["bundle"]) == os.path.realpath(bundle.path), (p, st)
        assert st["ociVersion"].startswith("1."), (p, st)
        if p != "poststop":
            assert st["pid"] == pid, (p, st)
    # the hooks of create run once the environment exists: "created" (as
    # the runtime-tools conformance suite checks for prestart)
    for p in ("prestart", "createRuntime", "createContainer"):
        assert read_json(d, p)["status"] == "created", p
    assert read_json(d, "poststart")["status"] in ("running", "created")
    assert read_json(d, "poststop")["status"] == "stopped"
    runtime.assert_clean(bundle.id)


def test_hooks_run_in_their_namespaces(runtime, bundle):
    d = setup_hookdir(bundle)
    bundle.config["hooks"] = {p: [recorder(d, p)] for p in POINTS if p != "poststop"}
    bundle.set_args("sleep", "600")
    assert runtime.create(bundle).returncode == 0
    runtime.ok("start", bundle.id)
    pid = runtime.state(bundle.id)["pid"]
    host = os.readlink("/proc/self/ns/mnt")
    ctr = os.readlink(f"/proc/{pid}/ns/mnt")
    assert ctr != host

    def mnt(p):
        return open(os.path.join(d, f"{p}.mnt")).read().strip()

    for p in ("prestart", "createRuntime", "poststart"):
        assert mnt(p) == host, f"{p} hook not in the runtime namespace"
    for p in ("createContainer", "startContainer"):
        assert mnt(p) == ctr, f"{p} hook not in the container namespace"


def test_start_container_hook_path_resolves_in_container(runtime, bundle):
    d = setup_hookdir(bundle)
    # /only-in-ctr exists only in the container's rootfs
    with open(os.path.join(bundle.rootfs, "only-in-ctr"), "w") as f:
        f.write(f"#!/bin/sh\necho inside > {d}/sc\n")
    os.chmod(os.path.join(bundle.rootfs, "only-in-ctr"), 0o755)
    bundle.config["hooks"] = {"startContainer": [{"path": "/only-in-ctr"}]}
    bundle.set_args("true")
    runtime.run_ok(bundle)
    assert open(os.path.join(d, "sc")).read().strip() == "inside"


def test_hook_args_and_env(runtime, bundle):
    d = setup_hookdir(bundle)
    bundle.config["hooks"] = {"createRuntime": [{
        "path": "/bin/sh",
        "args": ["sh", "-c", f'echo "$0|$1|$HOOKVAR" > {d}/out; env > {d}/env',
                 "argzero", "arg one"],
        "env": ["HOOKVAR=xyz"],
    }]}
    bundle.set_args("true")
    runtime.run_ok(bundle, env=dict(os.environ, HUTCH_LEAK_CHECK="leaked"))
    assert open(os.path.join(d, "out")).read().strip() == "argzero|arg one|xyz"
    # the hook gets the configured env, not the runtime's own
    assert "HUTCH_LEAK_CHECK" not in open(os.path.join(d, "env")).read()


def test_hook_timeout_kills_hook_and_fails_create(runtime, bundle):
    d = setup_hookdir(bundle)
    bundle.config["hooks"] = {"createRuntime": [{
        "path": "/bin/sh", "args": ["sh", "-c", f"echo $$ > {d}/pid; exec sleep 60"],
        "timeout": 1}]}
    bundle.set_args("true")
    t0 = time.monotonic()
    r = runtime.create(bundle, timeout=50)
    elapsed = time.monotonic() - t0
    assert r.returncode != 0
    assert elapsed < 20, f"create took {elapsed:.1f}s despite a 1s hook timeout"
    assert r.stderr.strip()
    hookpid = int(open(os.path.join(d, "pid")).read())
    assert wait_for(lambda: not pid_alive(hookpid), 5), "timed-out hook still running"
    runtime.assert_clean(bundle.id)


def test_failing_create_runtime_hook_fails_create(runtime, bundle):
    bundle.config["hooks"] = {"createRuntime": [{"path": "/bin/sh",
                                                 "args": ["sh", "-c", "exit 3"]}]}
    bundle.set_args("true")
    r = runtime.create(bundle)
    assert r.returncode != 0
    assert r.stderr.strip()
    runtime.assert_clean(bundle.id)


def test_failing_poststart_only_warns(runtime, bundle):
    d = setup_hookdir(bundle)
    bundle.config["hooks"] = {"poststart": [
        {"path": "/bin/sh", "args": ["sh", "-c", "exit 1"]},
        recorder(d, "poststart"),
    ]}
    bundle.set_args("sleep", "600")
    assert runtime.create(bundle).returncode == 0
    r = runtime("start", bundle.id)
    assert r.returncode == 0, f"failing poststart hook must only warn: {r.stderr}"
    assert order(d) == ["poststart"], "the hook after the failing one did not run"
    assert runtime.status(bundle.id) == "running"


def test_failing_poststop_only_warns(runtime, bundle):
    d = setup_hookdir(bundle)
    bundle.config["hooks"] = {"poststop": [
        {"path": "/bin/sh", "args": ["sh", "-c", "exit 1"]},
        recorder(d, "poststop"),
    ]}
    bundle.set_args("true")
    assert runtime.create(bundle).returncode == 0
    runtime.ok("start", bundle.id)
    runtime.wait_status(bundle.id, "stopped")
    r = runtime("delete", bundle.id)
    assert r.returncode == 0, f"failing poststop hook must only warn: {r.stderr}"
    assert order(d) == ["poststop"]
    runtime.assert_clean(bundle.id)


def cap_bnd(status_text):
    return next(l.split()[1] for l in status_text.splitlines() if l.startswith("CapBnd:"))


def test_in_container_hooks_keep_the_runtime_bounding_set(runtime, bundle):
    """The bounding set shrinks early (before the cgroup join) only when no
    hook runs from the container's init: createContainer and
    startContainer hooks get the runtime's set, the process its own."""
    d = setup_hookdir(bundle)
    bundle.process["capabilities"] = {k: ["CAP_KILL"] for k in
                                      ("bounding", "effective", "permitted")}
    bundle.config["hooks"] = {
        p: [{"path": "/bin/sh", "args": ["sh", "-c", f"cat /proc/self/status > {d}/{p}.st"]}]
        for p in ("createContainer", "startContainer")}
    bundle.set_args("sh", "-c", f"cat /proc/self/status > {d}/process.st")
    runtime.run_ok(bundle)
    with open("/proc/self/status") as f:
        host = cap_bnd(f.read())
    for p in ("createContainer", "startContainer"):
        with open(os.path.join(d, f"{p}.st")) as f:
            assert cap_bnd(f.read()) == host, p
    with open(os.path.join(d, "process.st")) as f:
        assert cap_bnd(f.read()) == "%016x" % (1 << 5)  # CAP_KILL
    runtime.assert_clean(bundle.id)


def test_bounding_set_without_hooks(runtime, bundle):
    """Without such hooks the early drop applies; the process and a
    process exec'd into the container end with the asked bounding set."""
    bundle.process["capabilities"] = {k: ["CAP_KILL", "CAP_CHOWN"] for k in
                                      ("bounding", "effective", "permitted")}
    bundle.set_args("sleep", "600")
    try:
        assert runtime.create(bundle).returncode == 0
        runtime.ok("start", bundle.id)
        r = runtime.ok("exec", bundle.id, "cat", "/proc/self/status")
        assert cap_bnd(r.stdout) == "%016x" % ((1 << 5) | 1)
        pid = runtime.state(bundle.id)["pid"]
        with open(f"/proc/{pid}/status") as f:
            assert cap_bnd(f.read()) == "%016x" % ((1 << 5) | 1)
    finally:
        runtime("delete", "-f", bundle.id)
    runtime.assert_clean(bundle.id)
