"""linux.netDevices (runtime-spec 1.2+): a device of the namespace hutch runs
in is moved into the container's network namespace, renamed as asked, keeps
its permanent global addresses (and only those), and is up.

hutch runs inside a network namespace each test creates (`nsenter --net`), and
the devices are veth pairs made there, so the host's interfaces are never
touched and no traffic is sent."""

import os
import subprocess
import uuid

import pytest

from conftest import HUTCH_BIN, IS_RUNC, run_cmd, wait_for

pytestmark = pytest.mark.skipif(IS_RUNC, reason="runc 1.1 has no netDevices")


def sh(*argv):
    r = run_cmd(list(argv), timeout=30)
    assert r.returncode == 0, f"{argv}: {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r.stdout


class Host:
    """The network namespace hutch runs in, made by the test."""

    def __init__(self, ns):
        self.ns = ns

    def ip(self, *args):
        return sh("ip", "-n", self.ns, *args)

    def links(self):
        out = self.ip("-o", "link", "show")
        return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}

    def veth(self, name, *addrs):
        """veth NAME (peer NAMEp) with ADDRS: ("10.0.0.1/24", extra ip args...)."""
        self.ip("link", "add", name, "type", "veth", "peer", "name", name + "p")
        for a in addrs:
            self.ip("addr", "add", *a, "dev", name)


@pytest.fixture
def host(runtime, tmp_path):
    ns = "nd-" + uuid.uuid4().hex[:8]
    sh("ip", "netns", "add", ns)
    wrapper = tmp_path / "hutch-in-netns"
    wrapper.write_text(f'#!/bin/sh\nexec nsenter --net=/run/netns/{ns} {HUTCH_BIN} "$@"\n')
    wrapper.chmod(0o755)
    runtime.bin = str(wrapper)
    try:
        yield Host(ns)
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


def addrs_inside(text, dev):
    """{address/prefix: scope} of DEV from `ip -o addr show` output."""
    out = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) > 3 and f[1] == dev and f[2] in ("inet", "inet6"):
            out[f[3]] = f[f.index("scope") + 1]
    return out


def test_net_device_moved_renamed_with_its_addresses(runtime, bundle, host):
    host.veth("nd0", ("10.99.0.1/24",), ("2001:db8::1/64", "nodad"),
              ("169.254.7.7/16", "scope", "link"))
    bundle.linux["netDevices"] = {"nd0": {"name": "ctr0"}}
    bundle.set_args("sh", "-c", "ip -o addr show; ip -o link show ctr0; exec sleep 600")
    out, errf = os.path.join(bundle.path, "out"), os.path.join(bundle.path, "err")
    # the container keeps create's stdio: files, not pipes to wait on
    with open(out, "w") as f, open(errf, "w") as e:
        bundle.write()
        runtime.ids.append(bundle.id)
        r = subprocess.run(runtime.argv("create", "--bundle", bundle.path, bundle.id),
                           stdin=subprocess.DEVNULL, stdout=f, stderr=e, timeout=30)
    assert r.returncode == 0, open(errf).read()
    # moved: gone from hutch's namespace as soon as create returns
    assert "nd0" not in host.links() and "nd0p" in host.links()
    runtime.ok("start", bundle.id)
    wait_for(lambda: "ctr0" in open(out).read() and "link/ether" in open(out).read(),
             timeout=10)
    text = open(out).read()
    inside = addrs_inside(text, "ctr0")
    # the permanent global addresses, not the link-scope one
    assert inside.get("10.99.0.1/24") == "global", text
    assert inside.get("2001:db8::1/64") == "global", text
    assert "169.254.7.7/16" not in inside, text
    link = next(line for line in text.splitlines() if ": ctr0" in line and "link/" in line)
    assert ",UP" in link or "<UP" in link, link
    runtime.ok("delete", "--force", bundle.id)
    # a virtual device goes with the container's namespace (the spec: nothing
    # is moved back); its peer with it
    wait_for(lambda: "nd0p" not in host.links(), timeout=10)
    runtime.assert_clean(bundle.id)


def test_net_device_template_name(runtime, bundle, host):
    host.veth("nd1", ("10.98.0.1/24",))
    bundle.linux["netDevices"] = {"nd1": {"name": "net%d"}}
    bundle.set_args("ip", "-o", "addr", "show")
    r = runtime.run_ok(bundle)
    # the kernel numbered it: the first free net%d in the container
    assert addrs_inside(r.stdout, "net0").get("10.98.0.1/24") == "global", r.stdout
    runtime.assert_clean(bundle.id)


def test_net_device_keeps_host_name_by_default(runtime, bundle, host):
    host.veth("nd2")
    bundle.linux["netDevices"] = {"nd2": {}}
    bundle.set_args("cat", "/sys/class/net/nd2/operstate", "/sys/class/net/nd2/flags")
    r = runtime.run_ok(bundle)
    flags = int(r.stdout.split()[-1], 16)
    assert flags & 1, r.stdout  # IFF_UP
    runtime.assert_clean(bundle.id)


@pytest.mark.parametrize("case", ["missing", "name-taken", "no-netns"])
def test_net_device_refused(runtime, bundle, host, case):
    host.veth("nd3", ("10.97.0.1/24",))
    want = {"missing": 'no network device "nope0"',
            "name-taken": 'already has a network device named "lo"',
            "no-netns": "no network namespace of its own"}[case]
    if case == "missing":
        bundle.linux["netDevices"] = {"nope0": {}}
    else:
        bundle.linux["netDevices"] = {"nd3": {"name": "lo"} if case == "name-taken" else {}}
    if case == "no-netns":
        bundle.linux["namespaces"] = [n for n in bundle.linux["namespaces"]
                                      if n["type"] != "network"]
    bundle.set_args("true")
    r = runtime.run(bundle)
    assert r.returncode != 0, f"{case} must be refused"
    assert "linux.netDevices" in r.stderr and want in r.stderr, r.stderr
    # nothing moved, nothing left
    assert "nd3" in host.links()
    assert "10.97.0.1/24" in host.ip("-o", "addr", "show", "dev", "nd3")
    runtime.assert_clean(bundle.id)


def test_net_device_into_user_namespace(runtime, bundle, host):
    """The container's network namespace belongs to its user namespace: the
    move (by hutch, root outside) and the addresses still work."""
    host.veth("nd4", ("10.96.0.1/24",))
    for ns in ("user", "network"):
        bundle.set_namespace(ns)
    for k in ("uidMappings", "gidMappings"):
        bundle.linux[k] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    bundle.drop_mount("/sys/fs/cgroup")
    bundle.linux["netDevices"] = {"nd4": {"name": "eth9"}}
    bundle.set_args("ip", "-o", "addr", "show", "eth9")
    r = runtime.run_ok(bundle)
    assert addrs_inside(r.stdout, "eth9").get("10.96.0.1/24") == "global", r.stdout
    runtime.assert_clean(bundle.id)
