"""Rootless: an ordinary user (created here with useradd and subordinate id
ranges, removed afterwards) runs `hutch spec --rootless` and `hutch run` with
a user namespace; state lives under $XDG_RUNTIME_DIR/hutch; cgroups it may
not write are skipped with a warning; what needs root is a clear error."""

import json
import os
import pwd
import shutil
import subprocess
import uuid

import pytest

from conftest import HUTCH_BIN, IS_RUNC, one, parse_kv, run_cmd, wait_for

SUB_START = 300000
SUB_COUNT = 65536


@pytest.fixture(scope="module")
def rluser():
    if shutil.which("setpriv") is None or shutil.which("useradd") is None:
        pytest.skip("needs setpriv and useradd")
    name = "hutchrl" + uuid.uuid4().hex[:6]
    r = run_cmd(["useradd", "-M", "-N", "-s", "/bin/sh", name])
    assert r.returncode == 0, r.stderr
    try:
        pw = pwd.getpwnam(name)
        # explicit ranges (useradd may or may not have added some)
        for flag, ids in (("--add-subuids", "subuid"), ("--add-subgids", "subgid")):
            r = run_cmd(["usermod", flag, f"{SUB_START}-{SUB_START + SUB_COUNT - 1}", name])
            assert r.returncode == 0, r.stderr
        yield pw
    finally:
        for flag in ("--del-subuids", "--del-subgids"):
            run_cmd(["usermod", flag, f"{SUB_START}-{SUB_START + SUB_COUNT - 1}", name])
        run_cmd(["userdel", name])
        for f in ("/etc/subuid", "/etc/subgid"):
            lines = [l for l in open(f) if not l.startswith(name + ":")]
            with open(f, "w") as out:
                out.writelines(lines)


class RootlessEnv:
    def __init__(self, pw, base, rootfs_src):
        self.pw = pw
        self.base = base
        self.xdg = os.path.join(base, "xdg")
        os.makedirs(self.xdg, mode=0o700)
        os.chown(self.xdg, pw.pw_uid, pw.pw_gid)
        self.rootfs_src = rootfs_src
        self.ids = []

    def as_user(self, *argv, cwd=None, extra_env=None):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "XDG_RUNTIME_DIR": self.xdg,
               "HOME": self.base, "USER": self.pw.pw_name, **(extra_env or {})}
        return run_cmd(["setpriv", f"--reuid={self.pw.pw_uid}", f"--regid={self.pw.pw_gid}",
                        "--init-groups", "--", *argv], cwd=cwd, env=env)

    def bundle(self, cid):
        b = os.path.join(self.base, cid)
        os.makedirs(b, mode=0o755)
        r = run_cmd(["cp", "-a", self.rootfs_src, os.path.join(b, "rootfs")])
        assert r.returncode == 0, r.stderr
        run_cmd(["chown", "-R", f"{self.pw.pw_uid}:{self.pw.pw_gid}", b])
        r = self.as_user(HUTCH_BIN, "spec", "--rootless", cwd=b)
        assert r.returncode == 0, r.stderr
        with open(os.path.join(b, "config.json")) as f:
            cfg = json.load(f)
        cfg["process"]["terminal"] = False
        cfg["root"] = {"path": "rootfs", "readonly": False}
        return b, cfg

    def run(self, b, cfg, cid, *args):
        cfg["process"]["args"] = ["/checker", *args]
        with open(os.path.join(b, "config.json"), "w") as f:
            json.dump(cfg, f)
        self.ids.append(cid)
        return self.as_user(HUTCH_BIN, "run", "--bundle", b, cid)

    def cleanup(self):
        for cid in self.ids:
            self.as_user(HUTCH_BIN, "delete", "--force", cid)


@pytest.fixture
def rl(rluser, workdir, rootfs_cache):
    base = os.path.join(workdir, "rl-" + uuid.uuid4().hex[:8])
    os.makedirs(base, mode=0o711)
    os.chmod(base, 0o711)
    env = RootlessEnv(rluser, base, rootfs_cache)
    yield env
    env.cleanup()
    leftovers = os.listdir(os.path.join(env.xdg, "hutch")) \
        if os.path.isdir(os.path.join(env.xdg, "hutch")) else []
    shutil.rmtree(base, ignore_errors=True)
    assert leftovers == [], f"state left under $XDG_RUNTIME_DIR/hutch: {leftovers}"


pytestmark = pytest.mark.skipif(IS_RUNC, reason="hutch-specific messages")


def test_rootless_spec_maps_the_caller(rl):
    b, cfg = rl.bundle("rl-spec")
    assert cfg["linux"]["uidMappings"] == [
        {"containerID": 0, "hostID": rl.pw.pw_uid, "size": 1}]
    assert cfg["linux"]["gidMappings"] == [
        {"containerID": 0, "hostID": rl.pw.pw_gid, "size": 1}]
    assert "user" in [n["type"] for n in cfg["linux"]["namespaces"]]


def test_rootless_run(rl):
    cid = "rl-" + uuid.uuid4().hex[:6]
    b, cfg = rl.bundle(cid)
    r = rl.run(b, cfg, cid, "ids", "caps", "ns")
    assert r.returncode == 0, (r.stdout, r.stderr)
    kv = parse_kv(r.stdout)
    assert one(kv, "uid") == "0"
    assert one(kv, "uid_map").split() == ["0", str(rl.pw.pw_uid), "1"]
    assert one(kv, "gid_map").split() == ["0", str(rl.pw.pw_gid), "1"]
    # an unprivileged caller may map its gid only with setgroups denied
    assert one(kv, "setgroups") == "deny"
    # root in its namespace, with the default capabilities
    assert int(one(kv, "cap.CapEff"), 16) != 0
    assert one(kv, "ns.user") != os.readlink("/proc/self/ns/user")
    # no writable cgroup for this user: skipped with a warning
    assert "cgroup" in r.stderr.lower(), r.stderr
    assert not os.listdir(os.path.join(rl.xdg, "hutch")), "state left behind"


def test_rootless_state_under_xdg_runtime_dir(rl):
    cid = "rl-" + uuid.uuid4().hex[:6]
    b, cfg = rl.bundle(cid)
    cfg["process"]["args"] = ["sleep", "600"]
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(cfg, f)
    rl.ids.append(cid)
    r = rl.as_user(HUTCH_BIN, "create", "--bundle", b, cid)
    assert r.returncode == 0, r.stderr
    sd = os.path.join(rl.xdg, "hutch", cid)
    assert os.path.isdir(sd), os.listdir(rl.xdg)
    assert os.stat(sd).st_uid == rl.pw.pw_uid
    r = rl.as_user(HUTCH_BIN, "state", cid)
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["status"] == "created"
    pid = st["pid"]
    uid_line = [l for l in open(f"/proc/{pid}/status") if l.startswith("Uid:")][0]
    assert uid_line.split()[1] == str(rl.pw.pw_uid)
    r = rl.as_user(HUTCH_BIN, "delete", "--force", cid)
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(sd)


def test_rootless_several_ranges_via_newuidmap(rl):
    if shutil.which("newuidmap") is None:
        pytest.skip("newuidmap (Debian's uidmap) missing")
    cid = "rl-" + uuid.uuid4().hex[:6]
    b, cfg = rl.bundle(cid)
    cfg["linux"]["uidMappings"] = [
        {"containerID": 0, "hostID": rl.pw.pw_uid, "size": 1},
        {"containerID": 1, "hostID": SUB_START, "size": SUB_COUNT}]
    cfg["linux"]["gidMappings"] = [
        {"containerID": 0, "hostID": rl.pw.pw_gid, "size": 1},
        {"containerID": 1, "hostID": SUB_START, "size": SUB_COUNT}]
    cfg["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [1001]}
    r = rl.run(b, cfg, cid, "ids")
    assert r.returncode == 0, (r.stdout, r.stderr)
    kv = parse_kv(r.stdout)
    assert [m.split() for m in kv["uid_map"]] == [
        ["0", str(rl.pw.pw_uid), "1"], ["1", str(SUB_START), str(SUB_COUNT)]]
    assert len(kv["gid_map"]) == 2, kv
    assert one(kv, "uid") == "1000" and one(kv, "gid") == "1000"
    # newgidmap leaves setgroups allowed: the additional gid is set
    assert one(kv, "setgroups") == "allow"
    assert one(kv, "groups") == "1001", kv


def test_rootless_range_not_granted_is_clear_error(rl):
    cid = "rl-" + uuid.uuid4().hex[:6]
    b, cfg = rl.bundle(cid)
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 12345, "size": 10}]
    r = rl.run(b, cfg, cid, "ids")
    assert r.returncode != 0
    assert "uidMappings" in r.stderr, r.stderr
    assert not os.listdir(os.path.join(rl.xdg, "hutch")), "state left behind"


def test_rootless_without_user_namespace_is_clear_error(rl):
    cid = "rl-" + uuid.uuid4().hex[:6]
    b, cfg = rl.bundle(cid)
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                  if n["type"] != "user"]
    cfg["linux"].pop("uidMappings", None)
    cfg["linux"].pop("gidMappings", None)
    r = rl.run(b, cfg, cid, "ids")
    assert r.returncode != 0
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert lines and "user namespace" in lines[-1], r.stderr


def cgroup_hierarchies():
    out = []
    for name in sorted(os.listdir("/sys/fs/cgroup")):
        d = os.path.join("/sys/fs/cgroup", name)
        if os.path.isdir(d) and os.path.exists(os.path.join(d, "cgroup.procs")):
            out.append(d)
    if not out and os.path.exists("/sys/fs/cgroup/cgroup.procs"):
        out.append("/sys/fs/cgroup")
    return out


@pytest.fixture
def delegated(rluser):
    """A cgroup per hierarchy handed to the rootless user (as systemd's
    Delegate=yes would), entered by the shell that starts hutch."""
    name = "hutch-deleg-" + uuid.uuid4().hex[:6]
    made = []
    try:
        for h in cgroup_hierarchies():
            d = os.path.join(h, name)
            os.mkdir(d)
            made.append(d)
            for f in ("cpuset.cpus", "cpuset.mems"):
                if os.path.exists(os.path.join(d, f)):
                    with open(os.path.join(h, f)) as src, open(os.path.join(d, f), "w") as dst:
                        dst.write(src.read().strip() or "\n")
            os.chown(d, rluser.pw_uid, rluser.pw_gid)
            for f in os.listdir(d):
                os.chown(os.path.join(d, f), rluser.pw_uid, rluser.pw_gid)
        yield name, made
    finally:
        for d in reversed(made):
            for sub in sorted((os.path.join(d, s) for s in os.listdir(d)
                               if os.path.isdir(os.path.join(d, s))), reverse=True):
                try:
                    os.rmdir(sub)
                except OSError:
                    pass
            try:
                os.rmdir(d)
            except OSError:
                pass


def test_rootless_uses_delegated_cgroup(rl, delegated):
    name, dirs = delegated
    cid = "rl-" + uuid.uuid4().hex[:6]
    b, cfg = rl.bundle(cid)
    cfg["linux"]["cgroupsPath"] = f"/{name}/{cid}"
    # the host's view of the paths: no cgroup namespace, no cgroup mount
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                  if n["type"] != "cgroup"]
    cfg["mounts"] = [m for m in cfg["mounts"] if m["destination"] != "/sys/fs/cgroup"]
    cfg["linux"]["resources"] = {"pids": {"limit": 77}}
    pids_dir = next((d for d in dirs if os.path.exists(os.path.join(d, "pids.max"))), None)
    show = f"cat {pids_dir}/{cid}/pids.max; " if pids_dir else ""
    cfg["process"]["args"] = ["sh", "-c", show + "/checker cgroup"]
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(cfg, f)
    rl.ids.append(cid)
    enter = "; ".join(f"echo $$ > {d}/cgroup.procs" for d in dirs)
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "XDG_RUNTIME_DIR": rl.xdg}
    r = run_cmd(["sh", "-c", enter + '; exec setpriv --reuid="$U" --regid="$G" --init-groups '
                 '-- "$H" run --bundle "$B" "$C"'],
                env={**env, "U": str(rl.pw.pw_uid), "G": str(rl.pw.pw_gid),
                     "H": HUTCH_BIN, "B": b, "C": cid})
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert "no cgroup" not in r.stderr, r.stderr
    lines = [l for l in r.stdout.splitlines() if l.startswith("cgroup=")]
    assert any(l.endswith(f"/{name}/{cid}") for l in lines), lines
    if pids_dir:
        # seen through the container's /sys (rbind of the host's)
        assert r.stdout.splitlines()[0] == "77", r.stdout
        assert not os.path.exists(os.path.join(pids_dir, cid)), "cgroup left after run"


def test_rootless_exec_kill_and_pause_error(rl):
    cid = "rl-" + uuid.uuid4().hex[:6]
    b, cfg = rl.bundle(cid)
    cfg["process"]["args"] = ["sleep", "600"]
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(cfg, f)
    rl.ids.append(cid)
    assert rl.as_user(HUTCH_BIN, "create", "--bundle", b, cid).returncode == 0
    assert rl.as_user(HUTCH_BIN, "start", cid).returncode == 0
    r = rl.as_user(HUTCH_BIN, "exec", cid, "/checker", "ids")
    assert r.returncode == 0, r.stderr
    assert one(parse_kv(r.stdout), "uid") == "0"
    # no cgroup to freeze: a clear error, the container keeps running
    r = rl.as_user(HUTCH_BIN, "pause", cid)
    assert r.returncode != 0 and "cgroup" in r.stderr, r.stderr
    r = rl.as_user(HUTCH_BIN, "kill", cid, "KILL")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: json.loads(rl.as_user(HUTCH_BIN, "state", cid).stdout)["status"]
             == "stopped")
    assert rl.as_user(HUTCH_BIN, "delete", cid).returncode == 0


def test_rootless_notify_socket(rl, tmp_path):
    """sd_notify relayed for an unprivileged caller: the init binds the
    notify directory itself (the caller cannot clone mounts)."""
    import socket as so
    from test_terminal import NOTIFY_C
    cid = "rl-" + uuid.uuid4().hex[:6]
    b, cfg = rl.bundle(cid)
    src = tmp_path / "notify.c"
    src.write_text(NOTIFY_C)
    out = os.path.join(b, "rootfs", "notify")
    r = run_cmd(["gcc", "-static", "-O2", "-o", out, str(src)], timeout=120)
    assert r.returncode == 0, r.stderr
    cfg["process"]["args"] = ["sh", "-c", "/notify READY=1"]
    with open(os.path.join(b, "config.json"), "w") as f:
        json.dump(cfg, f)
    host = os.path.join(rl.base, "host-notify.sock")
    s = so.socket(so.AF_UNIX, so.SOCK_DGRAM)
    s.bind(host)
    os.chmod(host, 0o777)
    s.settimeout(20)
    try:
        rl.ids.append(cid)
        r = rl.as_user(HUTCH_BIN, "run", "--bundle", b, cid, extra_env={"NOTIFY_SOCKET": host})
        assert r.returncode == 0, (r.stdout, r.stderr)
        msg = s.recv(4096).decode()
    finally:
        s.close()
    assert msg.splitlines()[0] == "READY=1", msg
