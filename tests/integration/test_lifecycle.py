"""Lifecycle per runtime.md: create, start, state, kill, delete, run, list."""

import calendar
import json
import os
import re
import signal
import threading
import time

from conftest import pid_alive, wait_for

LONG = ["sh", "-c", "touch /started; exec sleep 600"]


def test_create_leaves_created_with_waiting_process(runtime, bundle):
    bundle.set_args(*LONG)
    r = runtime.create(bundle)
    assert r.returncode == 0, r.stderr
    st = runtime.state(bundle.id)
    assert st["status"] == "created"
    assert st["id"] == bundle.id
    assert isinstance(st["pid"], int) and st["pid"] > 0
    assert pid_alive(st["pid"])
    # The user program must not have run yet.
    time.sleep(0.3)
    assert not os.path.exists(os.path.join(bundle.rootfs, "started"))

    runtime.ok("start", bundle.id)
    assert wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "started")))
    assert runtime.status(bundle.id) == "running"


def test_state_json_fields(runtime, bundle):
    bundle.set_args(*LONG)
    bundle.config["annotations"] = {"org.hutch.test": "yes"}
    assert runtime.create(bundle).returncode == 0
    st = runtime.state(bundle.id)
    for key in ("ociVersion", "id", "status", "pid", "bundle"):
        assert key in st, f"state lacks {key}: {st}"
    assert st["ociVersion"].startswith("1.")
    assert os.path.realpath(st["bundle"]) == os.path.realpath(bundle.path)
    assert st.get("annotations", {}).get("org.hutch.test") == "yes"
    # the creation time, as runc lists it: RFC 3339 in UTC with nanoseconds
    listed = json.loads(runtime.ok("list", "--format", "json").stdout)
    created = next(c["created"] for c in listed if c["id"] == bundle.id)
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d{9}Z", created)
    assert m, created
    when = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    assert abs(when - time.time()) < 120, (created, time.time())


def test_kill_then_stopped_then_delete(runtime, bundle):
    bundle.set_args(*LONG)
    assert runtime.create(bundle).returncode == 0
    runtime.ok("start", bundle.id)
    pid = runtime.state(bundle.id)["pid"]
    runtime.ok("kill", bundle.id, "KILL")
    assert runtime.wait_status(bundle.id, "stopped") == "stopped"
    assert wait_for(lambda: not pid_alive(pid))
    runtime.ok("delete", bundle.id)
    r = runtime("state", bundle.id)
    assert r.returncode != 0
    runtime.assert_clean(bundle.id)


def test_kill_default_signal_is_term(runtime, bundle):
    bundle.set_args("sh", "-c", "trap 'echo term > /got; exit 3' TERM; touch /ready; "
                    "while :; do sleep 0.1; done")
    assert runtime.create(bundle).returncode == 0
    runtime.ok("start", bundle.id)
    assert wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "ready")))
    runtime.ok("kill", bundle.id)
    assert runtime.wait_status(bundle.id, "stopped") == "stopped"
    with open(os.path.join(bundle.rootfs, "got")) as f:
        assert f.read().strip() == "term"


def test_delete_created_without_force_fails(runtime, bundle):
    bundle.set_args(*LONG)
    assert runtime.create(bundle).returncode == 0
    pid = runtime.state(bundle.id)["pid"]
    r = runtime("delete", bundle.id)
    assert r.returncode != 0, "delete of a created container must fail without --force"
    assert r.stderr.strip()
    # ... and have no effect on the container
    assert runtime.status(bundle.id) == "created"
    assert pid_alive(pid)
    runtime.ok("delete", "--force", bundle.id)
    runtime.assert_clean(bundle.id)


def test_delete_running_without_force_fails(runtime, bundle):
    bundle.set_args(*LONG)
    assert runtime.create(bundle).returncode == 0
    runtime.ok("start", bundle.id)
    pid = runtime.state(bundle.id)["pid"]
    r = runtime("delete", bundle.id)
    assert r.returncode != 0
    assert runtime.status(bundle.id) == "running"
    assert pid_alive(pid)
    runtime.ok("delete", "--force", bundle.id)
    assert wait_for(lambda: not pid_alive(pid))
    runtime.assert_clean(bundle.id)


def test_pid_file(runtime, bundle, tmp_path):
    bundle.set_args(*LONG)
    pidfile = tmp_path / "ctr.pid"
    assert runtime.create(bundle, "--pid-file", str(pidfile)).returncode == 0
    pid = int(pidfile.read_text().strip())
    assert pid == runtime.state(bundle.id)["pid"]
    # no temp file left next to it
    assert sorted(os.listdir(tmp_path)) == sorted(["ctr.pid", "state"])


def test_run_propagates_exit_status(runtime, bundle):
    bundle.set_args("sh", "-c", "echo out; exit 42")
    r = runtime.run(bundle)
    assert r.returncode == 42, r.stderr
    assert "out" in r.stdout
    # run without --keep deletes the container
    assert runtime("state", bundle.id).returncode != 0
    runtime.assert_clean(bundle.id)


def test_run_exit_status_on_signal(runtime, bundle):
    # pid 1 ignores signals sent from inside its namespace, so kill from outside.
    bundle.set_args(*LONG)
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("r", runtime.run(bundle)))
    t.start()
    try:
        assert wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "started")), 20)
        runtime.ok("kill", bundle.id, "KILL")
    finally:
        t.join(40)
    r = result["r"]
    assert r.returncode == 128 + signal.SIGKILL, (r.returncode, r.stderr)


def test_run_detach(runtime, bundle):
    bundle.set_args(*LONG)
    t0 = time.monotonic()
    r = runtime.run(bundle, "--detach")
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - t0 < 20
    st = runtime.state(bundle.id)
    assert st["status"] == "running"
    assert pid_alive(st["pid"])


def test_run_keep(runtime, bundle):
    bundle.set_args("sh", "-c", "exit 7")
    r = runtime.run(bundle, "--keep")
    assert r.returncode == 7, r.stderr
    assert runtime.status(bundle.id) == "stopped"
    runtime.ok("delete", bundle.id)
    runtime.assert_clean(bundle.id)


def test_start_twice_fails(runtime, bundle):
    bundle.set_args(*LONG)
    assert runtime.create(bundle).returncode == 0
    runtime.ok("start", bundle.id)
    r = runtime("start", bundle.id)
    assert r.returncode != 0


def test_list_formats(runtime):
    a = runtime.new_bundle()
    b = runtime.new_bundle()
    for x in (a, b):
        x.set_args(*LONG)
        assert runtime.create(x).returncode == 0
    runtime.ok("start", b.id)

    q = runtime.ok("list", "-q").stdout.split()
    assert sorted(q) == sorted([a.id, b.id])

    table = runtime.ok("list").stdout.splitlines()
    assert table[0].split()[0] == "ID"
    rows = {line.split()[0]: line.split() for line in table[1:] if line.strip()}
    assert rows[a.id][2] == "created"
    assert rows[b.id][2] == "running"

    js = json.loads(runtime.ok("list", "--format", "json").stdout)
    byid = {c["id"]: c for c in js}
    assert set(byid) == {a.id, b.id}
    assert byid[a.id]["status"] == "created"
    assert byid[b.id]["status"] == "running"
    assert byid[b.id]["pid"] == runtime.state(b.id)["pid"]


def test_list_empty_root(runtime):
    r = runtime("list", "-q")
    assert r.returncode == 0
    assert r.stdout.strip() == ""


def test_stopped_after_process_exits(runtime, bundle):
    bundle.set_args("sh", "-c", "exit 0")
    assert runtime.create(bundle).returncode == 0
    runtime.ok("start", bundle.id)
    assert runtime.wait_status(bundle.id, "stopped") == "stopped"
    runtime.ok("delete", bundle.id)
    runtime.assert_clean(bundle.id)


def test_pause_resume(runtime, bundle):
    bundle.set_args("sh", "-c", "while :; do date +%s%N > /tick; sleep 0.05; done")
    assert runtime.run(bundle, "--detach").returncode == 0
    tick = os.path.join(bundle.rootfs, "tick")
    assert wait_for(lambda: os.path.exists(tick))
    runtime.ok("pause", bundle.id)
    assert runtime.status(bundle.id) == "paused"
    time.sleep(0.2)
    frozen = open(tick).read()
    time.sleep(0.5)
    assert open(tick).read() == frozen, "container kept running while paused"
    runtime.ok("resume", bundle.id)
    assert runtime.status(bundle.id) == "running"
    assert wait_for(lambda: open(tick).read() != frozen)


def test_ps(runtime, bundle):
    bundle.set_args("sh", "-c", "sleep 600 & exec sleep 601")
    assert runtime.run(bundle, "--detach").returncode == 0
    pid = runtime.state(bundle.id)["pid"]
    assert wait_for(lambda: open(f"/proc/{pid}/comm").read().strip() == "sleep")
    pids = json.loads(runtime.ok("ps", "--format", "json", bundle.id).stdout)
    assert pid in pids
    assert len(pids) == 2, pids
    table = runtime.ok("ps", bundle.id).stdout
    assert "PID" in table.splitlines()[0]


def test_no_new_keyring(runtime, bundle):
    bundle.set_args("true")
    bundle.write()
    r = runtime("run", "--no-new-keyring", "--bundle", bundle.path, bundle.id)
    assert r.returncode == 0, r.stderr


def test_concurrent_create_same_id_one_wins(runtime, bundle):
    """The per-container lock: of several simultaneous creates of one id,
    exactly one succeeds and the survivor is intact."""
    import concurrent.futures
    bundle.set_args(*LONG)
    bundle.write()
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        results = list(ex.map(lambda _: runtime("create", "--bundle", bundle.path, bundle.id),
                              range(4)))
    ok = [r for r in results if r.returncode == 0]
    assert len(ok) == 1, [(r.returncode, r.stderr) for r in results]
    st = runtime.state(bundle.id)
    assert st["status"] == "created" and pid_alive(st["pid"])
    runtime.ok("start", bundle.id)
    assert wait_for(lambda: os.path.exists(os.path.join(bundle.rootfs, "started")))


def test_concurrent_delete_force(runtime, bundle):
    import concurrent.futures
    bundle.set_args(*LONG)
    assert runtime.run(bundle, "--detach").returncode == 0
    pid = runtime.state(bundle.id)["pid"]
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        list(ex.map(lambda _: runtime("delete", "--force", bundle.id), range(4)))
    assert wait_for(lambda: not pid_alive(pid))
    runtime.assert_clean(bundle.id)
