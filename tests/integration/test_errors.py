"""Errors: each exits non-zero with one clear line on stderr naming the cause,
and leaves no cgroup, mount, state dir or process behind."""

import os

from conftest import pid_alive


def error_lines(r):
    return [line for line in r.stderr.splitlines() if line.strip()]


def assert_one_clear_line(r, *needles):
    assert r.returncode != 0, f"expected failure, got 0: {r.stdout}"
    lines = error_lines(r)
    assert len(lines) == 1, f"expected one line on stderr, got: {lines}"
    for n in needles:
        assert n in lines[0], f"{n!r} not named in: {lines[0]}"


def test_bad_bundle_path(runtime):
    cid = runtime.new_id()
    bad = "/nonexistent/hutch-bundle-xyz"
    r = runtime("create", "--bundle", bad, cid)
    assert_one_clear_line(r, bad)
    runtime.assert_clean(cid)


def test_invalid_json(runtime, bundle):
    bundle.write()
    with open(os.path.join(bundle.path, "config.json"), "w") as f:
        f.write('{"ociVersion": "1.0.0", "process": {')
    r = runtime("create", "--bundle", bundle.path, bundle.id)
    assert r.returncode != 0
    assert_one_clear_line(r)
    assert "json" in r.stderr.lower() or "config.json" in r.stderr
    runtime.assert_clean(bundle.id)


def test_wrong_type_names_json_path(runtime, bundle):
    bundle.linux["resources"] = {"memory": {"limit": "lots"}}
    r = runtime.create(bundle)
    assert_one_clear_line(r, "linux.resources.memory.limit")
    runtime.assert_clean(bundle.id)


def test_missing_rootfs(runtime, bundle):
    bundle.config["root"]["path"] = "no-such-rootfs"
    r = runtime.create(bundle)
    assert_one_clear_line(r, "no-such-rootfs")
    runtime.assert_clean(bundle.id)


def test_missing_executable(runtime, bundle):
    bundle.set_args("/bin/no-such-program", "arg")
    r = runtime.run(bundle)
    assert_one_clear_line(r, "no-such-program")
    runtime.assert_clean(bundle.id)


def test_missing_executable_in_path(runtime, bundle):
    bundle.set_args("no-such-command-xyz")
    r = runtime.run(bundle)
    assert_one_clear_line(r, "no-such-command-xyz")
    runtime.assert_clean(bundle.id)


def test_missing_cwd_is_created_or_refused_cleanly(runtime, bundle):
    bundle.process["cwd"] = "/does/not/exist"
    bundle.set_args("pwd")
    r = runtime.run(bundle)
    if r.returncode == 0:
        assert r.stdout.strip() == "/does/not/exist"
    else:
        assert_one_clear_line(r, "/does/not/exist")
    runtime.assert_clean(bundle.id)


def test_id_already_in_use(runtime, bundle):
    bundle.set_args("sleep", "600")
    assert runtime.create(bundle).returncode == 0
    pid = runtime.state(bundle.id)["pid"]
    other = runtime.new_bundle(bundle.id + "x")
    other.id = bundle.id
    other.write()
    r = runtime("create", "--bundle", other.path, bundle.id)
    assert_one_clear_line(r, bundle.id)
    # the existing container is untouched
    st = runtime.state(bundle.id)
    assert st["status"] == "created" and st["pid"] == pid and pid_alive(pid)
    assert os.path.realpath(st["bundle"]) == os.path.realpath(bundle.path)


def test_unknown_id(runtime):
    cid = runtime.new_id()
    for args in (["state", cid], ["start", cid], ["kill", cid, "KILL"], ["delete", cid]):
        r = runtime(*args)
        assert_one_clear_line(r, cid)
    runtime.assert_clean(cid)


def test_invalid_id_refused(runtime, bundle):
    bundle.set_args("true")
    bundle.write()
    for bad in ("../escape", "a/b", ".hidden", "x" * 1025):
        runtime.ids.append(bad)  # delete --force it afterwards should it be accepted
        r = runtime("create", "--bundle", bundle.path, bad)
        assert r.returncode != 0, f"id {bad!r} accepted"
        assert error_lines(r)
        assert not os.path.exists(os.path.join(runtime.root, bad[:200]))
    assert not os.path.exists(os.path.join(os.path.dirname(runtime.root), "escape"))


def test_failing_prestart_hook(runtime, bundle):
    bundle.config["hooks"] = {"prestart": [{"path": "/bin/sh",
                                            "args": ["sh", "-c", "exit 7"]}]}
    bundle.set_args("sleep", "600")
    r = runtime.create(bundle)
    assert_one_clear_line(r)
    assert "prestart" in r.stderr.lower() or "hook" in r.stderr.lower()
    runtime.assert_clean(bundle.id)


def test_missing_hook_binary(runtime, bundle):
    bundle.config["hooks"] = {"createRuntime": [{"path": "/no/such/hook"}]}
    bundle.set_args("true")
    r = runtime.create(bundle)
    assert_one_clear_line(r, "/no/such/hook")
    runtime.assert_clean(bundle.id)


def test_unsupported_oci_version_major(runtime, bundle):
    bundle.config["ociVersion"] = "2.0.0"
    r = runtime.create(bundle)
    assert_one_clear_line(r, "2.0.0")
    runtime.assert_clean(bundle.id)


def test_older_1x_oci_version_accepted(runtime, bundle):
    bundle.config["ociVersion"] = "1.0.0"
    bundle.set_args("true")
    runtime.run_ok(bundle)


def test_unknown_properties_ignored(runtime, bundle):
    bundle.config["x-unknown-top"] = {"a": 1}
    bundle.process["x-unknown-in-process"] = True
    bundle.set_args("true")
    runtime.run_ok(bundle)


def test_invalid_utf8_refused(runtime, bundle):
    bundle.write()
    path = os.path.join(bundle.path, "config.json")
    data = open(path, "rb").read()
    # a hostname with a byte sequence that is not UTF-8
    data = data.replace(b'"hutch-test"', b'"bad-\xff\xfe-name"', 1)
    assert b"\xff" in data
    open(path, "wb").write(data)
    r = runtime("create", "--bundle", bundle.path, bundle.id)
    assert_one_clear_line(r)
    assert "utf" in r.stderr.lower(), r.stderr
    runtime.assert_clean(bundle.id)


def test_deeply_nested_json_refused(runtime, bundle):
    bundle.write()
    path = os.path.join(bundle.path, "config.json")
    depth = 100000
    with open(path, "w") as f:
        f.write('{"ociVersion": "1.0.0", "annotations": {"x": ' + "[" * depth + "]" * depth
                + "}}")
    r = runtime("create", "--bundle", bundle.path, bundle.id)
    assert r.returncode not in (0, -11, 139), "deep nesting accepted or crashed the parser"
    assert_one_clear_line(r)
    runtime.assert_clean(bundle.id)


def test_recognised_but_unimplemented_field_refused(runtime, bundle):
    bundle.linux["intelRdt"] = {"closID": "hutch-test"}
    r = runtime.create(bundle)
    assert_one_clear_line(r, "linux.intelRdt")
    runtime.assert_clean(bundle.id)
