"""Command line: usage, --version, --help, logging, kill forms, features, spec."""

import json
import os
import re

from conftest import HUTCH_BIN, pid_alive, run_cmd, wait_for


def test_bad_global_flag_gives_usage(runtime):
    r = runtime("--no-such-flag", "list")
    assert r.returncode != 0
    assert "usage" in (r.stdout + r.stderr).lower()


def test_bad_command_flag_gives_usage(runtime):
    r = runtime("create", "--no-such-flag", "x")
    assert r.returncode != 0
    assert "usage" in (r.stdout + r.stderr).lower()


def test_unknown_command(runtime):
    r = runtime("frobnicate")
    assert r.returncode != 0
    assert (r.stdout + r.stderr).strip()


def test_missing_argument(runtime):
    r = runtime("start")
    assert r.returncode != 0
    assert (r.stdout + r.stderr).strip()


def test_version_mentions_spec_version():
    r = run_cmd([HUTCH_BIN, "--version"])
    assert r.returncode == 0
    assert re.search(r"\d+\.\d+", r.stdout)
    assert re.search(r"spec\S*:?\s*v?1\.\d+", r.stdout, re.I), r.stdout


def test_help_lists_commands():
    r = run_cmd([HUTCH_BIN, "--help"])
    assert r.returncode == 0
    for cmd in ("create", "start", "state", "kill", "delete", "run", "list", "spec",
                "features"):
        assert cmd in r.stdout, cmd


def test_command_help():
    r = run_cmd([HUTCH_BIN, "create", "--help"])
    assert r.returncode == 0
    assert "--bundle" in r.stdout and "--console-socket" in r.stdout


def test_log_format_json_on_error(runtime, tmp_path):
    log = tmp_path / "log.json"
    cid = runtime.new_id()
    r = runtime("state", cid, global_args=("--log", str(log), "--log-format", "json"))
    assert r.returncode != 0
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert lines, "nothing logged"
    entries = [json.loads(line) for line in lines]
    for e in entries:
        assert {"level", "msg", "time"} <= set(e), e
    errs = [e for e in entries if e["level"] == "error"]
    assert errs, entries


def test_log_text_to_file(runtime, tmp_path):
    log = tmp_path / "log.txt"
    cid = runtime.new_id()
    r = runtime("state", cid, global_args=("--log", str(log)))
    assert r.returncode != 0
    text = log.read_text()
    # the error reaches the log file (runc: level=error msg=...; hutch names the id)
    assert "error" in text.lower() or cid in text, text


def test_debug_logs_steps(runtime, bundle, tmp_path):
    log = tmp_path / "debug.json"
    bundle.set_args("true")
    bundle.write()
    r = runtime("run", "--bundle", bundle.path, bundle.id,
                global_args=("--debug", "--log", str(log), "--log-format", "json"))
    assert r.returncode == 0, r.stderr
    levels = [json.loads(line)["level"] for line in log.read_text().splitlines() if line.strip()]
    assert "debug" in levels


def test_kill_signal_forms(runtime):
    for form in ("SIGKILL", "KILL", "9"):
        b = runtime.new_bundle()
        b.set_args("sleep", "600")
        assert runtime.create(b).returncode == 0
        runtime.ok("start", b.id)
        pid = runtime.state(b.id)["pid"]
        runtime.ok("kill", b.id, form)
        assert wait_for(lambda: not pid_alive(pid)), f"kill {form} did not kill"
        assert runtime.wait_status(b.id, "stopped") == "stopped"


def test_kill_lowercase_and_usr1(runtime, bundle):
    bundle.set_args("sh", "-c", "trap 'echo usr1 > /got' USR1; touch /ready; "
                    "while [ ! -e /got ]; do sleep 0.1; done")
    assert runtime.create(bundle).returncode == 0
    runtime.ok("start", bundle.id)
    assert wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "ready")))
    runtime.ok("kill", bundle.id, "SIGUSR1")
    assert wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "got")))
    assert runtime.wait_status(bundle.id, "stopped") == "stopped"


def test_kill_bad_signal(runtime, bundle):
    bundle.set_args("sleep", "600")
    assert runtime.create(bundle).returncode == 0
    r = runtime("kill", bundle.id, "SIGNOPE")
    assert r.returncode != 0
    assert "SIGNOPE" in r.stderr or "NOPE" in r.stderr
    assert runtime.status(bundle.id) == "created"


def test_kill_all(runtime, bundle):
    bundle.set_args("sh", "-c", "sleep 600 & sleep 600 & touch /ready; wait")
    assert runtime.create(bundle).returncode == 0
    runtime.ok("start", bundle.id)
    assert wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "ready")))
    runtime.ok("kill", "--all", bundle.id, "KILL")
    assert runtime.wait_status(bundle.id, "stopped") == "stopped"


def test_features_json(runtime):
    r = runtime.ok("features")
    f = json.loads(r.stdout)
    assert f["ociVersionMin"].startswith("1.")
    assert f["ociVersionMax"].startswith("1.")
    assert set(f["hooks"]) >= {"prestart", "createRuntime", "createContainer",
                               "startContainer", "poststart", "poststop"}
    assert "bind" in f["mountOptions"] and "ro" in f["mountOptions"]
    linux = f["linux"]
    assert set(linux["namespaces"]) >= {"pid", "network", "ipc", "uts", "mount", "user",
                                        "cgroup", "time"}
    assert "CAP_SYS_ADMIN" in linux["capabilities"]
    assert linux["cgroup"]["v1"] is True and linux["cgroup"]["v2"] is True


def test_spec_writes_valid_config(tmp_path):
    r = run_cmd([HUTCH_BIN, "spec", "--bundle", str(tmp_path)])
    assert r.returncode == 0, r.stderr
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["ociVersion"].startswith("1.")
    assert cfg["root"]["path"] == "rootfs"
    assert cfg["process"]["args"]
    types = {ns["type"] for ns in cfg["linux"]["namespaces"]}
    assert {"pid", "mount", "network", "ipc", "uts"} <= types
    # refuses to overwrite
    r = run_cmd([HUTCH_BIN, "spec", "--bundle", str(tmp_path)])
    assert r.returncode != 0


def test_spec_rootless(tmp_path):
    r = run_cmd([HUTCH_BIN, "spec", "--rootless", "--bundle", str(tmp_path)])
    assert r.returncode == 0, r.stderr
    cfg = json.loads((tmp_path / "config.json").read_text())
    types = {ns["type"] for ns in cfg["linux"]["namespaces"]}
    assert "user" in types
    assert cfg["linux"]["uidMappings"] and cfg["linux"]["gidMappings"]


def test_systemd_cgroup_not_supported(runtime, bundle):
    bundle.set_args("true")
    bundle.write()
    r = runtime("run", "--bundle", bundle.path, bundle.id, global_args=("--systemd-cgroup",))
    assert r.returncode != 0
    assert "systemd" in r.stderr.lower()
    runtime.assert_clean(bundle.id)
