"""Container networking (issue 7): networks as objects, veth attachments,
overlapping subnets, private routes, bandwidth limits, published ports, and
nothing left after delete or after a killed create plus `hutch network gc`.

hutch itself runs inside a network namespace each test creates (`nsenter
--net`, which keeps the mount namespace so the routers' bind mounts stay
visible), so all traffic stays in namespaces the test owns; the host's
interfaces and routes are never touched.

Containers ask for networks with hutch's annotations (org.hutch.network,
org.hutch.bandwidth, org.hutch.ports).  Until `create` calls the library's
attach, the helper falls back to `hutch network attach ID PID ...` (the same
library call) and test_create_attaches_from_annotations fails, so the missing
wiring is reported rather than hidden."""

import json
import os
import signal
import subprocess
import time
import uuid

import pytest

from conftest import HUTCH_BIN, IS_RUNC, cgroup_dirs, pid_alive, run_cmd, wait_for

pytestmark = pytest.mark.skipif(IS_RUNC, reason="hutch's own networking")

CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW",
        "CAP_NET_ADMIN"]
SINK = "#!/bin/sh\nwc -c > /tmp/recv\n"
# A server loop on PORT answering with the container's own name.
SERVE = "while true; do nc -l -p {port} -e /hello; done"


def sh(*argv, timeout=30, check=True):
    r = run_cmd(list(argv), timeout=timeout)
    if check:
        assert r.returncode == 0, f"{argv}: {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


class Net:
    def __init__(self, runtime, netns, wrapper):
        self.rt = runtime
        self.netns = netns
        self.wrapper = wrapper
        self.networks = []
        self.containers = {}  # id -> pid
        self.wired = None

    # networks --------------------------------------------------------------
    def create_network(self, name, subnet, *extra):
        self.networks.append(name)
        self.rt.ok("network", "create", name, "--subnet", subnet, *extra)

    def netdir(self, name):
        return os.path.join(self.rt.root, "networks", name)

    def leases(self, name):
        d = os.path.join(self.netdir(name), "leases")
        return sorted(f for f in os.listdir(d) if not f.startswith(".")) if os.path.isdir(d) else []

    def in_router(self, name, *argv):
        return sh("nsenter", f"--net={self.netdir(name)}/netns", *argv).stdout

    def router_links(self, name):
        out = self.in_router(name, "ip", "-o", "link", "show")
        return sorted(l.split(":")[1].strip().split("@")[0] for l in out.splitlines())

    def router_base(self, name):
        """The router's own links: lo, the bridge, and the uplink if any."""
        return ["br0", "lo"] + (["uplink"] if "uplink" in self.inspect(name) else [])

    def router_qdiscs(self, name):
        out = self.in_router(name, "tc", "qdisc", "show")
        return [l for l in out.splitlines() if not l.startswith("qdisc noqueue")]

    def inspect(self, name):
        return json.loads(self.rt.ok("network", "inspect", name).stdout)

    def attachments(self, cid):
        out = []
        for n in self.networks:
            if os.path.isdir(self.netdir(n)):
                out += [a for a in self.inspect(n)["attachments"] if a["container"] == cid]
        return out

    # containers ------------------------------------------------------------
    def container(self, networks, script="exec sleep 600", bandwidth=None, ports=None,
                  files=None, create_args=(), annotations=None):
        b = self.rt.new_bundle()
        b.set_args("sh", "-c", script)
        for s in ("bounding", "effective", "permitted"):
            b.process.setdefault("capabilities", {})[s] = CAPS
        ann = b.config.setdefault("annotations", {})
        if networks:
            ann["org.hutch.network"] = networks
        if bandwidth:
            ann["org.hutch.bandwidth"] = bandwidth
        if ports:
            ann["org.hutch.ports"] = ports
        ann.update(annotations or {})
        files = dict(files or {})
        files.setdefault("hello", f"#!/bin/sh\necho hello-from-{b.id}\n")
        files.setdefault("sink", SINK)
        for name, text in files.items():
            p = os.path.join(b.rootfs, name)
            with open(p, "w") as f:
                f.write(text)
            os.chmod(p, 0o755)
        r = self.rt.create(b, *create_args)
        assert r.returncode == 0, f"create: {r.stderr}"
        pid = self.rt.state(b.id)["pid"]
        self.containers[b.id] = pid
        attached = bool(self.attachments(b.id))
        if self.wired is None and (networks or create_args):
            self.wired = attached
        if not attached and networks:
            # create did not attach (not wired yet): the same library call by hand
            extra = [f"{k}={v}" for k, v in ann.items() if k.startswith("org.hutch.")
                     and k != "org.hutch.network"]
            self.rt.ok("network", "attach", b.id, str(pid), *networks.split(","), *extra)
        self.rt.ok("start", b.id)
        return b.id

    def ip_of(self, cid, network=None):
        for a in self.attachments(cid):
            if network is None or a["network"] == network:
                return a["ip"]
        raise AssertionError(f"{cid} has no address")

    def exec(self, cid, cmd, timeout=30):
        return self.rt("exec", cid, "sh", "-c", cmd, timeout=timeout)

    def delete(self, cid):
        self.rt.ok("delete", "--force", cid)
        if not self.wired:
            self.rt.ok("network", "detach", cid)

    def host(self, *argv, timeout=30, check=False):
        """Run argv in the namespace hutch runs in."""
        return sh("nsenter", f"--net=/run/netns/{self.netns}", *argv, timeout=timeout,
                  check=check)

    def cleanup(self):
        for cid in self.containers:
            self.rt("delete", "--force", cid)
            self.rt("network", "detach", cid)
        for n in self.networks:
            if os.path.isdir(self.netdir(n)):
                self.rt("network", "rm", "--force", n)


@pytest.fixture
def net(runtime, tmp_path):
    ns = "hn-" + uuid.uuid4().hex[:8]
    sh("ip", "netns", "add", ns)
    sh("ip", "-n", ns, "link", "set", "lo", "up")
    wrapper = tmp_path / "hutch-in-netns"
    wrapper.write_text(f'#!/bin/sh\nexec nsenter --net=/run/netns/{ns} {HUTCH_BIN} "$@"\n')
    wrapper.chmod(0o755)
    runtime.bin = str(wrapper)
    n = Net(runtime, ns, str(wrapper))
    try:
        yield n
    finally:
        n.cleanup()
        sh("ip", "netns", "del", ns, check=False)
    left = [line for line in open("/proc/self/mountinfo") if runtime.root in line]
    assert not left, f"router namespace mounts left: {left}"


# ---------------------------------------------------------------------------


def test_network_objects(net):
    rt = net.rt
    net.create_network("front", "10.61.0.0/24")
    net.create_network("back", "10.62.0.0/16", "--gateway", "10.62.0.254", "--internal")
    r = rt("network", "create", "front", "--subnet", "10.63.0.0/24")
    assert r.returncode != 0 and "already exists" in r.stderr
    r = rt("network", "create", "bad", "--subnet", "10.64.0.1/24")
    assert r.returncode != 0 and "10.64.0.1/24" in r.stderr
    r = rt("network", "create", "bad", "--subnet", "10.64.0.0/24", "--gateway", "10.65.0.1")
    assert r.returncode != 0 and "10.65.0.1" in r.stderr
    assert not os.path.exists(net.netdir("bad"))
    assert rt.ok("network", "ls", "-q").stdout.split() == ["back", "front"]
    ls = rt.ok("network", "ls").stdout
    assert "10.62.0.0/16" in ls and "10.62.0.254" in ls
    info = net.inspect("back")
    assert info["subnet"] == "10.62.0.0/16" and info["gateway"] == "10.62.0.254"
    assert info["internal"] is True and info["attachments"] == []
    # the router namespace has the bridge with the gateway, nothing else
    assert net.router_links("front") == ["br0", "lo", "uplink"]
    assert net.router_links("back") == ["br0", "lo"]  # internal: no uplink
    assert "10.61.0.1/24" in net.in_router("front", "ip", "-o", "addr", "show", "br0")
    # durable: network.json is complete JSON
    with open(os.path.join(net.netdir("front"), "network.json")) as f:
        assert json.load(f)["subnet"] == "10.61.0.0/24"
    # rm refused while attached, allowed with --force
    cid = net.container("front")
    r = rt("network", "rm", "front")
    assert r.returncode != 0 and "attached" in r.stderr
    net.delete(cid)
    rt.ok("network", "rm", "front")
    rt.ok("network", "rm", "back")
    assert rt.ok("network", "ls", "-q").stdout.split() == []
    r = rt("network", "inspect", "front")
    assert r.returncode != 0 and "front" in r.stderr


def test_concurrent_creates_get_distinct_addresses(net):
    net.create_network("n", "10.66.0.0/24")
    ids = [net.container("n") for _ in range(4)]
    ips = [net.ip_of(c) for c in ids]
    assert len(set(ips)) == 4, ips
    assert sorted(net.leases("n")) == sorted(ips)
    net.rt.ok("network", "gc")  # live containers keep their leases
    assert sorted(net.leases("n")) == sorted(ips)
    # concurrent attaches of processes hutch does not know (ipam under load)
    holders = [subprocess.Popen(["unshare", "--net", "sleep", "60"]) for _ in range(6)]
    try:
        time.sleep(0.3)
        procs = [subprocess.Popen(net.rt.argv("network", "attach", f"h{i}", str(h.pid), "n"),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for i, h in enumerate(holders)]
        for p in procs:
            assert p.wait(timeout=30) == 0, p.stderr.read()
        leases = net.leases("n")
        assert len(leases) == 10 and len(set(leases)) == 10
        for i in range(6):
            net.rt.ok("network", "detach", f"h{i}")
        assert sorted(net.leases("n")) == sorted(ips)
    finally:
        for h in holders:
            h.kill()
            h.wait()


def test_create_attaches_from_annotations(net):
    """create itself attaches (annotation and --network) and delete detaches."""
    net.create_network("n1", "10.67.0.0/24")
    net.create_network("n2", "10.68.0.0/24")
    net.wired = None
    cid = net.container("n1", create_args=("--network", "n2:ip=10.68.0.9"))
    assert net.wired, "create did not attach the container (hutch_net_attach not wired)"
    r = net.exec(cid, "ip -o -4 addr show")
    assert "eth0" in r.stdout and "10.67.0.2/24" in r.stdout, r.stdout
    assert "eth1" in r.stdout and "10.68.0.9/24" in r.stdout, r.stdout
    net.rt.ok("delete", "--force", cid)
    assert net.leases("n1") == [] and net.leases("n2") == []


def test_two_containers_ping_and_tcp(net):
    net.create_network("n", "10.70.0.0/24")
    a = net.container("n:ip=10.70.0.10")
    b = net.container("n", script=SERVE.format(port=5000))
    ipb = net.ip_of(b)
    assert ipb == "10.70.0.2"
    r = net.exec(a, f"ping -c 2 -W 2 {ipb}")
    assert r.returncode == 0 and "2 packets received" in r.stdout, r.stdout + r.stderr
    r = net.exec(b, "ping -c 1 -W 2 10.70.0.10 && ping -c 1 -W 2 10.70.0.1")
    assert r.returncode == 0, r.stdout + r.stderr
    out = ""
    for _ in range(20):
        out = net.exec(a, f"nc {ipb} 5000 </dev/null").stdout
        if out:
            break
        time.sleep(0.2)
    assert out.strip() == f"hello-from-{b}"
    r = net.exec(a, "ip route")
    assert "default via 10.70.0.1 dev eth0" in r.stdout, r.stdout


def test_same_subnet_isolated(net):
    net.create_network("na", "10.71.0.0/24")
    net.create_network("nb", "10.71.0.0/24")
    a1 = net.container("na:ip=10.71.0.10")
    a2 = net.container("na:ip=10.71.0.11", script=SERVE.format(port=5000))
    b1 = net.container("nb:ip=10.71.0.10")
    b2 = net.container("nb:ip=10.71.0.11", script=SERVE.format(port=5000))

    def ask(cid):
        for _ in range(20):
            out = net.exec(cid, "nc 10.71.0.11 5000 </dev/null").stdout.strip()
            if out:
                return out
            time.sleep(0.2)
        return ""

    # the same address answers differently on each network
    assert ask(a1) == f"hello-from-{a2}"
    assert ask(b1) == f"hello-from-{b2}"
    # and the other network's MAC is never learnt
    mac_a2 = net.exec(a2, "cat /sys/class/net/eth0/address").stdout.strip()
    mac_b2 = net.exec(b2, "cat /sys/class/net/eth0/address").stdout.strip()
    assert mac_a2 and mac_b2 and mac_a2 != mac_b2
    net.exec(a1, "ping -c 1 -W 2 10.71.0.11")
    net.exec(b1, "ping -c 1 -W 2 10.71.0.11")
    neigh_a = net.exec(a1, "ip neigh").stdout
    neigh_b = net.exec(b1, "ip neigh").stdout
    assert mac_a2 in neigh_a and mac_b2 not in neigh_a, neigh_a
    assert mac_b2 in neigh_b and mac_a2 not in neigh_b, neigh_b
    # a container alone on its network reaches nothing of the other
    net.create_network("nc", "10.71.0.0/24")
    c1 = net.container("nc:ip=10.71.0.10")
    r = net.exec(c1, "ping -c 1 -W 1 10.71.0.11")
    assert r.returncode != 0


def test_private_routes(net):
    net.create_network("n", "10.72.0.0/24")
    a = net.container("n")
    b = net.container("n")
    r = net.exec(a, "ip route add 203.0.113.0/24 via 10.72.0.1 && ip route")
    assert r.returncode == 0 and "203.0.113.0/24" in r.stdout, r.stdout + r.stderr
    assert "203.0.113.0/24" not in net.exec(b, "ip route").stdout
    assert "203.0.113.0/24" not in net.host("ip", "route", check=True).stdout
    assert "203.0.113.0/24" not in net.in_router("n", "ip", "route")
    assert "203.0.113.0/24" not in sh("ip", "route").stdout


def measure(net, sender, receiver_ip, blocks):
    """Mbit/s of a timed copy of blocks*64KiB from sender to receiver_ip:5000,
    timed inside the sender (/proc/uptime) around dd | nc; nc returns once the
    receiver has read everything and closed."""
    script = ("a=$(cut -d' ' -f1 /proc/uptime); "
              f"dd if=/dev/zero bs=65536 count={blocks} 2>/dev/null | nc {receiver_ip} 5000; "
              "rc=$?; b=$(cut -d' ' -f1 /proc/uptime); echo $rc $a $b")
    for _ in range(5):
        r = net.exec(sender, script, timeout=60)
        rc, a, b = r.stdout.split()
        if rc == "0" and float(b) > float(a):
            return blocks * 65536 * 8 / (float(b) - float(a)) / 1e6
        if rc == "0":
            return float("inf")
        time.sleep(0.3)  # receiver's nc between two connections
    raise AssertionError(f"transfer failed: {r.stdout} {r.stderr}")


def received(net, cid):
    return int(net.exec(cid, "cat /tmp/recv").stdout.strip() or 0)


def test_bandwidth_limit(net):
    net.create_network("n", "10.73.0.0/24")
    recv = net.container("n", script="while true; do nc -l -p 5000 -e /sink; done")
    send = net.container("n", bandwidth="egress=10mbit")
    ip = net.ip_of(recv)
    att = net.attachments(send)[0]
    assert att["egress_bps"] == 10_000_000
    # egress of the sender shaped on the router side (ifb), out of its reach
    assert any("tbf" in q and "10Mbit" in q for q in net.router_qdiscs("n"))
    assert "tbf" not in net.exec(send, "tc qdisc show 2>/dev/null; true").stdout
    rate = measure(net, send, ip, 64)  # 4 MiB, ~3.4 s at 10 Mbit/s
    print(f"rate={rate:.2f}")
    assert received(net, recv) == 64 * 65536
    assert 8.5 <= rate <= 11.5, f"{rate:.2f} Mbit/s with a 10 Mbit/s limit"
    # changed on the running container: no limit
    net.rt.ok("network", "bandwidth", send, "egress=none")
    assert net.attachments(send)[0]["egress_bps"] == 0
    assert net.router_qdiscs("n") == [], net.router_qdiscs("n")
    rate = measure(net, send, ip, 1024)  # 64 MiB
    print(f"rate={rate:.2f}")
    assert received(net, recv) == 1024 * 65536
    assert rate > 100, f"{rate:.2f} Mbit/s without a limit"
    # the container's ingress: tbf on the router side of the receiver's veth
    net.rt.ok("network", "bandwidth", recv, "ingress=10mbit")
    assert net.attachments(recv)[0]["ingress_bps"] == 10_000_000
    rate = measure(net, send, ip, 64)
    print(f"rate={rate:.2f}")
    assert 8.5 <= rate <= 11.5, f"{rate:.2f} Mbit/s with a 10 Mbit/s ingress limit"


def test_published_port(net):
    net.create_network("n", "10.74.0.0/24", "--internal")
    cid = net.container("n", script=SERVE.format(port=80), ports="18080:80/tcp")
    out = ""
    for _ in range(20):
        out = net.host("busybox", "nc", "127.0.0.1", "18080").stdout.strip()
        if out:
            break
        time.sleep(0.2)
    assert out == f"hello-from-{cid}"
    # a second connection is served too
    time.sleep(0.3)
    assert wait_for(lambda: net.host("busybox", "nc", "127.0.0.1", "18080").stdout.strip()
                    == f"hello-from-{cid}", 10)
    # the port lives only in the namespace hutch runs in
    assert ":18080" not in sh("ss", "-ltn").stdout
    net.delete(cid)
    assert net.host("busybox", "nc", "127.0.0.1", "18080").returncode != 0
    assert os.listdir(os.path.join(net.rt.root, "networks", ".ports")) == []


def assert_network_clean(net, name):
    assert net.leases(name) == []
    assert net.router_links(name) == net.router_base(name)
    assert net.router_qdiscs(name) == []
    assert net.inspect(name)["attachments"] == []
    ports = os.path.join(net.rt.root, "networks", ".ports")
    assert not os.path.isdir(ports) or os.listdir(ports) == []


def test_nothing_left_after_delete(net):
    net.create_network("n", "10.75.0.0/24")
    a = net.container("n", bandwidth="egress=5mbit,ingress=5mbit", ports="18081:80")
    b = net.container("n")
    pid = net.containers[a]
    assert len(net.router_links("n")) == 3 + 3  # lo, br0, uplink, 2 veths, 1 ifb
    assert len(net.router_qdiscs("n")) >= 3
    net.delete(a)
    net.delete(b)
    assert not pid_alive(pid)
    assert_network_clean(net, "n")
    net.rt.ok("network", "detach", a)  # idempotent
    net.rt.ok("network", "rm", "n")
    assert not os.path.exists(net.netdir("n"))


def test_gc_after_kill9_during_create(net):
    net.create_network("n", "10.76.0.0/24")
    if net.wired is None:
        probe = net.container("n")
        net.delete(probe)
    if not net.wired:
        pytest.skip("create does not attach yet; nothing to kill during create")
    b = net.rt.new_bundle()
    b.set_args("sleep", "600")
    b.config.setdefault("annotations", {}).update({
        "org.hutch.network": "n", "org.hutch.bandwidth": "rate=5mbit",
        "org.hutch.ports": "18082:80"})
    b.write()
    leases = os.path.join(net.netdir("n"), "leases")
    p = subprocess.Popen(net.rt.argv("create", "--bundle", b.path, b.id),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for(lambda: [f for f in os.listdir(leases) if not f.startswith(".")]
                    or p.poll() is not None, 20, 0.001)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=10)
    try:
        # what a crash leaves: the container's processes die (the runtime's
        # delete handles live ones; gc repairs the network side)
        for d in cgroup_dirs(b.id):
            try:
                for pid in open(os.path.join(d, "cgroup.procs")).read().split():
                    os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
        net.rt.ok("network", "gc")
        assert_network_clean(net, "n")
    finally:
        # tidy what the killed create left for the runtime (state dir, cgroup)
        net.rt("delete", "--force", b.id)
        sd = os.path.join(net.rt.root, b.id)
        if os.path.isdir(sd):
            subprocess.run(["rm", "-rf", sd])
        for d in cgroup_dirs(b.id):
            wait_for(lambda: not open(os.path.join(d, "cgroup.procs")).read().strip(), 5)
            try:
                os.rmdir(d)
            except OSError:
                pass


def test_gc_repairs_stale_leases_and_veths(net):
    """A lease of a dead container and a router veth no lease names are removed."""
    net.create_network("n", "10.77.0.0/24")
    h = subprocess.Popen(["unshare", "--net", "sleep", "60"])
    try:
        time.sleep(0.3)
        net.rt.ok("network", "attach", "ghost", str(h.pid), "n",
                  "org.hutch.bandwidth=rate=5mbit", "org.hutch.ports=18083:80")
        assert net.leases("n") == ["10.77.0.2"]
        # a veth nobody leases (as if the lease write was lost)
        net.in_router("n", "ip", "link", "add", "hv0a4d00fe", "type", "veth", "peer", "name",
                      "x0")
        # "ghost" has no state.json (as after a create killed right after
        # attaching): gc releases it although its process lives
        net.rt.ok("network", "gc")
        assert_network_clean(net, "n")
    finally:
        h.kill()
        h.wait()


def test_hosts_file(net):
    net.create_network("n", "10.78.0.0/24")
    peer = net.container("n")
    if not net.wired:
        pytest.skip("create does not attach yet (org.hutch.hosts is written by create)")
    cid = net.container("n", annotations={"org.hutch.hosts": "true"})
    hosts = net.exec(cid, "cat /etc/hosts").stdout
    assert "127.0.0.1\tlocalhost" in hosts
    assert "10.78.0.3\thutch-test" in hosts, hosts  # its own address, its hostname
    assert f"10.78.0.2\t{peer}" in hosts, hosts
    r = net.exec(cid, f"ping -c 1 -W 2 {peer}")
    assert r.returncode == 0, r.stdout + r.stderr
    # without the annotation the rootfs is left alone
    assert "10.78.0.2" not in net.exec(peer, "cat /etc/hosts 2>/dev/null; true").stdout


def test_uplink_nat_and_internal(net):
    """Non-internal networks reach the namespace hutch runs in through the
    router's uplink (NAT in the router, so identical subnets both work);
    --internal networks reach nothing outside."""
    net.create_network("u1", "10.79.0.0/24")
    net.create_network("u2", "10.79.0.0/24")
    net.create_network("in", "10.80.0.0/24", "--internal")
    up1, up2 = net.inspect("u1")["uplink"], net.inspect("u2")["uplink"]
    assert up1["address"] != up2["address"]
    assert "uplink" not in net.inspect("in")
    gw1 = up1["address"].split("/")[0]
    gw2 = up2["address"].split("/")[0]
    hostlinks = net.host("ip", "-o", "link", check=True).stdout
    assert up1["veth"] in hostlinks and up2["veth"] in hostlinks
    # a TCP service in hutch's namespace, on all addresses
    srv = subprocess.Popen(["nsenter", f"--net=/run/netns/{net.netns}", "busybox", "nc", "-l",
                            "-p", "7000", "-e", "/bin/echo", "hello-from-host"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        a = net.container("u1:ip=10.79.0.10")
        b = net.container("u2:ip=10.79.0.10")
        c = net.container("in")
        r = net.exec(a, f"ping -c 1 -W 2 {gw1}")
        assert r.returncode == 0, r.stdout + r.stderr
        r = net.exec(b, f"ping -c 1 -W 2 {gw2}")
        assert r.returncode == 0, r.stdout + r.stderr
        out = ""
        for _ in range(20):
            out = net.exec(a, f"nc {gw1} 7000 </dev/null").stdout.strip()
            if out:
                break
            time.sleep(0.2)
        assert out == "hello-from-host"
        r = net.exec(c, f"ping -c 1 -W 1 {gw1}")
        assert r.returncode != 0
        assert "default" not in net.in_router("in", "ip", "route")
    finally:
        srv.kill()
        srv.wait()
    for n in ("u1", "u2", "in"):
        net.rt.ok("network", "rm", "--force", n)
    hostlinks = net.host("ip", "-o", "link", check=True).stdout
    assert up1["veth"] not in hostlinks and up2["veth"] not in hostlinks
    assert os.listdir(os.path.join(net.rt.root, "networks", ".uplinks")) == []
