#!/usr/bin/python3
"""hutch beside crun and runc (and a C floor), on one busybox-static bundle.

Run as root:  bench/run.sh [--quick] [-n N]      (see bench/README.md)

Everything is interleaved (hutch crun runc floor, hutch crun runc floor, ...)
so that load changes on the machine hit every runtime alike; results are
medians with min-max.  No number here is an assertion: this is a report.

The harness re-executes itself under `unshare --mount --propagation private`
and covers /sys/fs/cgroup/unified with an empty tmpfs inside that namespace
only (crun 1.8.1 refuses hybrid hosts), so every runtime sees pure cgroup v1.
Containers get cgroupsPath /hutch-bench/<id>; /sys/fs/cgroup/*/hutch-bench is
removed at the end, and every container id is `delete --force`d, also on
Ctrl-C.  Standard library only (plus gnuplot for the PNG).
"""

import argparse
import datetime
import json
import os
import platform
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CG_ROOT = "/sys/fs/cgroup"
CG_PARENT = "hutch-bench"
PACKAGES = ["busybox-static", "runc", "crun", "gcc", "libc6-dev", "gnuplot-nox"]
CALL_TIMEOUT = 20  # seconds, any single runtime command
KiB = 1024
MiB = 1024 * 1024


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------- setup ----


def ensure_packages():
    missing = []
    for pkg in PACKAGES:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True,
                           text=True, timeout=30)
        if "install ok installed" not in r.stdout:
            missing.append(pkg)
    if not missing:
        return
    log(f"bench: installing {' '.join(missing)} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *missing],
                       env=env, timeout=900)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *missing],
                       env=env, timeout=900)


def enter_private_namespace(argv):
    """Re-exec under a private mount namespace (once)."""
    if os.environ.get("HUTCH_BENCH_NS") == "1":
        return
    env = dict(os.environ, HUTCH_BENCH_NS="1",
               HUTCH_BENCH_OUTER_MNT=os.readlink("/proc/self/ns/mnt"))
    os.execve("/usr/bin/unshare", ["unshare", "--mount", "--propagation", "private",
                                   sys.executable, os.path.abspath(__file__), *argv], env)


def hide_unified_hierarchy():
    """Cover /sys/fs/cgroup/unified with a tmpfs, in our own namespace only."""
    outer = os.environ.get("HUTCH_BENCH_OUTER_MNT")
    if not outer or os.readlink("/proc/self/ns/mnt") == outer:
        sys.exit("bench: refusing to change mounts: not in a private mount namespace")
    unified = os.path.join(CG_ROOT, "unified")
    if os.path.isfile(os.path.join(unified, "cgroup.controllers")):
        subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", unified],
                       check=True, timeout=10)
        log("bench: private mount namespace; /sys/fs/cgroup/unified covered by tmpfs (pure v1)")


def build_rootfs(tmp):
    rootfs = os.path.join(tmp, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    shutil.copy2("/bin/busybox", os.path.join(rootfs, "bin", "busybox"))
    for tool in ("true", "echo", "sh", "sleep", "cat"):
        os.symlink("busybox", os.path.join(rootfs, "bin", tool))
    for d in ("proc", "dev", "sys", "tmp", "etc", "root"):
        os.makedirs(os.path.join(rootfs, d))
    with open(os.path.join(rootfs, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\n")
    return rootfs


def base_config(tmp, rootfs):
    d = os.path.join(tmp, "spec")
    os.makedirs(d)
    subprocess.run(["/usr/sbin/runc", "spec", "--bundle", d], check=True, timeout=CALL_TIMEOUT)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    cfg["root"] = {"path": rootfs, "readonly": True}
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/bin/true"]
    cfg["hostname"] = "bench"
    cfg["linux"]["resources"]["memory"] = {"limit": 256 * MiB}
    cfg["linux"]["resources"]["pids"] = {"limit": 1024}
    return cfg


def build_c(tmp, name, static=False):
    out = os.path.join(tmp, name)
    subprocess.run(["gcc", "-std=gnu17", "-O2", "-Wall", "-Wextra", *(["-static"] if static else []),
                    "-o", out, os.path.join(HERE, name + ".c")], check=True, timeout=120)
    return out


# ------------------------------------------------------------ running ----


class Result:
    __slots__ = ("rc", "wall", "cpu", "maxrss", "timed_out", "err", "out")

    def ok(self):
        return self.rc == 0 and not self.timed_out


class Caller:
    """Runs one command, measuring wall time and the rusage of its tree."""

    def __init__(self, tmp, measure):
        self.measure = measure
        self.resfile = os.path.join(tmp, "measure.out")
        self.errf = open(os.path.join(tmp, "stderr.log"), "w+b")
        self.outf = open(os.path.join(tmp, "stdout.log"), "w+b")

    def call(self, argv, timeout=CALL_TIMEOUT, capture=False):
        for f in (self.errf, self.outf):
            f.seek(0)
            f.truncate()
        res = Result()
        res.timed_out = False
        try:
            os.unlink(self.resfile)
        except FileNotFoundError:
            pass
        t0 = time.monotonic()
        p = subprocess.Popen([self.measure, self.resfile, *argv], stdin=subprocess.DEVNULL,
                             stdout=self.outf if capture else subprocess.DEVNULL,
                             stderr=self.errf, start_new_session=True, close_fds=True)

        def on_timeout():
            res.timed_out = True
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass

        timer = threading.Timer(timeout, on_timeout)
        timer.start()
        try:
            while True:
                try:
                    _, status, ru = os.wait4(p.pid, 0)
                    break
                except InterruptedError:
                    continue
        finally:
            timer.cancel()
        t1 = time.monotonic()
        p.returncode = res.rc = os.waitstatus_to_exitcode(status)
        # fallback (includes the spawn from Python and Python's own RSS)
        res.wall, res.cpu, res.maxrss = t1 - t0, ru.ru_utime + ru.ru_stime, ru.ru_maxrss
        try:
            with open(self.resfile) as f:
                wall_ns, user_us, sys_us, maxrss = map(int, f.read().split())
            res.wall = wall_ns / 1e9
            res.cpu = (user_us + sys_us) / 1e6  # the runtime and every child it reaped
            res.maxrss = maxrss  # KiB: the largest single process of that tree
        except (OSError, ValueError):
            if res.rc == 0:
                res.rc = 125  # no measurement: count as failed
        self.errf.seek(0)
        res.err = self.errf.read()[-600:].decode(errors="replace").strip()
        if capture:
            self.outf.seek(0)
            res.out = self.outf.read(4096)
        return res


class Runtime:
    kind = "runtime"

    def __init__(self, name, binary, tmp):
        self.name = name
        self.binary = binary
        self.root = os.path.join(tmp, "state", name)
        os.makedirs(self.root)
        self.ids = set()  # ids not known to be deleted, for the final cleanup
        self.broken = None

    def cmd(self, *args):
        return [self.binary, "--root", self.root, *args]

    def run(self, cid, bundle, cfg):
        self.ids.add(cid)
        return self.cmd("run", "--bundle", bundle, cid)

    def create(self, cid, bundle, pid_file):
        self.ids.add(cid)
        return self.cmd("create", "--bundle", bundle, "--pid-file", pid_file, cid)

    def start(self, cid):
        return self.cmd("start", cid)

    def kill(self, cid):
        return self.cmd("kill", cid, "KILL")

    def delete(self, cid, force=False):
        return self.cmd("delete", *(["--force"] if force else []), cid)

    def exec(self, cid, args):
        return self.cmd("exec", cid, *args)


class Floor:
    """bench/floor.c: the kernel work alone, run the same way."""

    kind = "floor"

    def __init__(self, binary):
        self.name = "floor"
        self.binary = binary
        self.broken = None
        self.ids = set()

    def run(self, cid, bundle, cfg, pid_file=None):
        nss = {ns["type"] for ns in cfg["linux"]["namespaces"]}
        res = cfg["linux"]["resources"]
        argv = [self.binary, "run"]
        if "network" not in nss:
            argv.append("--nonet")
        if "memory" in res:
            argv += ["--mem", str(res["memory"]["limit"])]
        if "pids" in res:
            argv += ["--pids", str(res["pids"]["limit"])]
        if pid_file:
            argv += ["--pid-file", pid_file]
        return argv + [cfg["linux"]["cgroupsPath"].lstrip("/"), cfg["root"]["path"],
                       *cfg["process"]["args"]]


def median(xs):
    return statistics.median(xs) if xs else None


class Bench:
    def __init__(self, args, tmp):
        self.args = args
        self.tmp = tmp
        self.caller = Caller(tmp, build_c(tmp, "measure", static=True))
        self.rootfs = build_rootfs(tmp)
        self.cfg = base_config(tmp, self.rootfs)
        self.floor = Floor(build_c(tmp, "floor"))
        self.runtimes = []
        hutch = args.hutch
        if hutch and os.path.exists(hutch) and os.access(hutch, os.X_OK):
            self.runtimes.append(Runtime("hutch", os.path.realpath(hutch), tmp))
        else:
            log(f"bench: no hutch binary at {hutch}; comparing the others only")
            self.hutch_missing = hutch
        self.runtimes.append(Runtime("crun", "/usr/bin/crun", tmp))
        self.runtimes.append(Runtime("runc", "/usr/sbin/runc", tmp))
        self.floor_bg = []  # background floor containers (Popen)
        # metric -> runner -> {"wall": [], "cpu": [], "rss": [], "fail": n, "err": str}
        self.data = {}
        self.extra = {}
        self.bundle_n = 0

    # -- helpers --

    def all_runners(self, with_floor=True):
        rs = [r for r in self.runtimes if not r.broken]
        if with_floor and not self.floor.broken:
            rs.append(self.floor)
        return rs

    def bundle(self, cid, args=None, nonet=False, mem=None):
        cfg = json.loads(json.dumps(self.cfg))
        cfg["linux"]["cgroupsPath"] = f"/{CG_PARENT}/{cid}"
        if args:
            cfg["process"]["args"] = args
        if nonet:
            cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                          if n["type"] != "network"]
        if mem is not None:
            cfg["linux"]["resources"]["memory"] = {"limit": mem}
        d = os.path.join(self.tmp, "bundles", cid)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f)
        return d, cfg

    def slot(self, metric, runner):
        return self.data.setdefault(metric, {}).setdefault(
            runner.name, {"wall": [], "cpu": [], "rss": [], "fail": 0, "err": ""})

    def record(self, metric, runner, res, wall=None):
        s = self.slot(metric, runner)
        if res is None or not res.ok():
            s["fail"] += 1
            s["consec"] = s.get("consec", 0) + 1
            if res is not None and not s["err"]:
                s["err"] = ("timeout " if res.timed_out else f"rc={res.rc} ") + res.err[-300:]
            return False
        s["consec"] = 0
        s["wall"].append(res.wall if wall is None else wall)
        s["cpu"].append(res.cpu)
        s["rss"].append(res.maxrss)
        return True

    def gave_up(self, metric, runner):
        """3 failures in a row: stop trying this metric (keeps the run bounded)."""
        return self.data.get(metric, {}).get(runner.name, {}).get("consec", 0) >= 3

    def cid(self, runner, tag):
        self.bundle_n += 1
        return f"{runner.name}-{tag}{self.bundle_n}"

    def force_delete(self, runner, cid):
        if runner.kind == "runtime":
            self.caller.call(runner.delete(cid, force=True), timeout=10)
            if not os.path.exists(os.path.join(runner.root, cid)):
                runner.ids.discard(cid)

    def wait_exit(self, pid, timeout=5.0):
        try:
            fd = os.pidfd_open(pid)
        except OSError:
            return True  # already gone
        try:
            r, _, _ = select.select([fd], [], [], timeout)
            return bool(r)
        finally:
            os.close(fd)

    def read_pid(self, path):
        try:
            with open(path) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    # -- phases --

    def smoke(self):
        for r in self.all_runners():
            cid = self.cid(r, "smoke")
            b, cfg = self.bundle(cid)
            res = self.caller.call(r.run(cid, b, cfg))
            if res.ok():
                r.ids.discard(cid)
                log(f"bench: {r.name} ok ({res.wall * 1000:.1f} ms)")
            else:
                r.broken = ("timeout" if res.timed_out else f"rc={res.rc}") + ": " + \
                    (res.err.splitlines()[-1] if res.err else "")
                log(f"bench: {r.name} FAILED the smoke run, left out: {r.broken}")
                self.force_delete(r, cid)

    def phase_run(self, n, nonet, pause=0.0):
        metric = "run (no netns)" if nonet else "run"
        if pause:
            metric = "run (isolated)"
        log(f"bench: {metric}: /bin/true x{n}, interleaved"
            + (f", {pause * 1000:.0f} ms apart" if pause else ""))
        for _ in range(n):
            for r in self.all_runners():
                if self.gave_up(metric, r):
                    continue
                if pause:
                    # the kernel's state after a quiet spell, as a lone
                    # container start sees it (no batch amortizes anything)
                    time.sleep(pause)
                cid = self.cid(r, "n" if nonet else "r")
                b, cfg = self.bundle(cid, nonet=nonet)
                res = self.caller.call(r.run(cid, b, cfg))
                if self.record(metric, r, res):
                    r.ids.discard(cid)
                else:
                    self.force_delete(r, cid)

    def phase_lifecycle(self, n):
        log(f"bench: create/start/kill/delete x{n}, interleaved")
        for _ in range(n):
            for r in self.all_runners(with_floor=False):
                if any(self.gave_up(m, r) for m in ("create", "start", "kill", "delete")):
                    continue
                cid = self.cid(r, "l")
                b, _ = self.bundle(cid, args=["/bin/sleep", "1000"])
                pidf = os.path.join(b, "pid")
                ok = self.record("create", r, self.caller.call(r.create(cid, b, pidf)))
                ok = ok and self.record("start", r, self.caller.call(r.start(cid)))
                pid = self.read_pid(pidf)
                ok = ok and self.record("kill", r, self.caller.call(r.kill(cid)))
                if ok and not (pid is not None and self.wait_exit(pid)):
                    s = self.slot("delete", r)
                    s["fail"] += 1
                    s["err"] = s["err"] or f"no pid file, or pid {pid} still alive 5 s after kill"
                    ok = False
                ok = ok and self.record("delete", r, self.caller.call(r.delete(cid)))
                if ok:
                    r.ids.discard(cid)
                else:
                    self.force_delete(r, cid)

    def start_sleeper(self, r):
        """A running container for exec; returns (cid, pid, cfg) or None."""
        cid = self.cid(r, "x")
        b, cfg = self.bundle(cid, args=["/bin/sleep", "1000"])
        pidf = os.path.join(b, "pid")
        if r.kind == "floor":
            p = subprocess.Popen(r.run(cid, b, cfg, pid_file=pidf), stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, start_new_session=True)
            self.floor_bg.append(p)
            deadline = time.monotonic() + 5
            while self.read_pid(pidf) is None and time.monotonic() < deadline:
                time.sleep(0.01)
            pid = self.read_pid(pidf)
            return (cid, pid, cfg) if pid else None
        res = self.caller.call(r.create(cid, b, pidf))
        if res.ok():
            res = self.caller.call(r.start(cid))
        if not res.ok():
            self.slot("exec", r)["err"] = f"setup: rc={res.rc} {res.err[-300:]}"
            self.force_delete(r, cid)
            return None
        return (cid, self.read_pid(pidf), cfg)

    def stop_sleeper(self, r, cid, pid):
        if r.kind == "floor":
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            for p in self.floor_bg:
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            return
        self.force_delete(r, cid)

    def phase_exec(self, n):
        log(f"bench: exec /bin/true x{n} into a running container, interleaved")
        running = {}
        for r in self.all_runners():
            s = self.start_sleeper(r)
            if s:
                running[r.name] = (r, *s)
            else:
                self.slot("exec", r)["fail"] += 1
        try:
            for _ in range(n):
                for name, (r, cid, pid, cfg) in running.items():
                    if self.gave_up("exec", r):
                        continue
                    if r.kind == "floor":
                        argv = [r.binary, "exec", str(pid), cfg["linux"]["cgroupsPath"].lstrip("/"),
                                "/bin/true"]
                    else:
                        argv = r.exec(cid, ["/bin/true"])
                    self.record("exec", r, self.caller.call(argv))
        finally:
            for name, (r, cid, pid, cfg) in running.items():
                self.stop_sleeper(r, cid, pid)

    def phase_concurrent(self, sizes, rounds):
        log(f"bench: {'/'.join(map(str, sizes))} containers at once, {rounds} round(s)")
        for _ in range(rounds):
            for k in sizes:
                for r in self.all_runners(with_floor=False):
                    if not any(self.gave_up(f"{op} x{k}", r) for op in ("create", "start", "delete")):
                        self.concurrent_once(r, k)

    def concurrent_once(self, r, k):
        made, pids = [], []
        ok = True
        t_create = t_start = t_delete = 0.0
        cpu_create = cpu_delete = 0.0
        try:
            for _ in range(k):
                cid = self.cid(r, f"c{k}-")
                b, _ = self.bundle(cid, args=["/bin/sleep", "1000"])
                res = self.caller.call(r.create(cid, b, os.path.join(b, "pid")))
                if not res.ok():
                    self.record(f"create x{k}", r, res)
                    ok = False
                    break
                made.append(cid)
                pids.append(self.read_pid(os.path.join(b, "pid")))
                t_create += res.wall
                cpu_create += res.cpu
            for cid in made if ok else []:
                res = self.caller.call(r.start(cid))
                if not res.ok():
                    self.record(f"start x{k}", r, res)
                    ok = False
                    break
                t_start += res.wall
            for cid in made:
                self.caller.call(r.kill(cid), timeout=10)
            for pid in pids:
                if pid:
                    self.wait_exit(pid)
            deleted = []
            for cid in made if ok else []:
                res = self.caller.call(r.delete(cid))
                if not res.ok():
                    self.record(f"delete x{k}", r, res)
                    ok = False
                    break
                deleted.append(cid)
                r.ids.discard(cid)
                t_delete += res.wall
                cpu_delete += res.cpu
            made = [c for c in made if c not in deleted]
        finally:
            for cid in made:
                self.force_delete(r, cid)
        if ok:
            for metric, total, cpu in ((f"create x{k}", t_create, cpu_create),
                                       (f"start x{k}", t_start, 0.0),
                                       (f"delete x{k}", t_delete, cpu_delete)):
                s = self.slot(metric, r)
                s["wall"].append(total / k)  # per container
                s["cpu"].append(cpu / k)
                s.setdefault("total", []).append(total)

    def works_at(self, r, limit, tries):
        for _ in range(tries):
            cid = self.cid(r, "m")
            b, cfg = self.bundle(cid, args=["/bin/echo", "hi"], mem=limit)
            res = self.caller.call(r.run(cid, b, cfg), timeout=15, capture=True)
            if res.ok():
                r.ids.discard(cid)
            if not (res.ok() and b"hi" in (res.out or b"")):
                self.last_err = ("timeout " if res.timed_out else f"rc={res.rc} ") + res.err[-300:]
                self.force_delete(r, cid)
                return False
        return True

    def phase_memlimit(self, tries, step):
        lo_bound, hi_bound = 64 * KiB, 16 * MiB
        log(f"bench: smallest memory limit for `run echo hi` (bisection {lo_bound // KiB} KiB.."
            f"{hi_bound // MiB} MiB, {tries} tries per step, {step // KiB} KiB precision)")
        out = {}
        for r in self.all_runners():
            if self.works_at(r, lo_bound, tries):
                out[r.name] = f"<= {lo_bound // KiB} KiB"
                continue
            if not self.works_at(r, hi_bound, tries):
                out[r.name] = f"> {hi_bound // MiB} MiB"
                self.slot("memlimit", r)["err"] = f"at {hi_bound // MiB} MiB: {self.last_err}"
                continue
            lo, hi = lo_bound, hi_bound  # lo fails, hi works
            while hi - lo > step:
                mid = (lo + hi) // 2 // 4096 * 4096
                if mid <= lo:
                    break
                if self.works_at(r, mid, tries):
                    hi = mid
                else:
                    lo = mid
            out[r.name] = hi
            log(f"bench:   {r.name}: {hi // KiB} KiB")
        self.extra["memlimit"] = out

    def phase_static(self):
        info = {}
        for r in self.runtimes:
            size = os.path.getsize(r.binary)
            try:
                ldd = subprocess.run(["ldd", r.binary], capture_output=True, text=True,
                                     timeout=10).stdout
            except subprocess.TimeoutExpired:
                ldd = ""
            libs, libsize = [], 0
            for line in ldd.splitlines():
                parts = line.split()
                if not parts or "linux-vdso" in parts[0] or "statically linked" in line \
                        or "not a dynamic executable" in line:
                    continue
                path = parts[2] if len(parts) >= 3 and parts[1] == "=>" else parts[0]
                libs.append(os.path.basename(parts[0]))
                if os.path.exists(path):
                    libsize += os.path.getsize(os.path.realpath(path))
            try:
                ver = subprocess.run([r.binary, "--version"], capture_output=True, text=True,
                                     timeout=10).stdout.splitlines()
            except (subprocess.TimeoutExpired, OSError):
                ver = []
            ver = " ".join(v.strip() for v in ver[:3] if v.startswith(("hutch", "crun", "runc", "commit")))
            info[r.name] = {"path": r.binary, "version": ver, "size": size, "libs": libs, "libsize": libsize,
                            "static": not libs}
        info["floor"] = {"path": "bench/floor.c (gcc -O2)", "size": os.path.getsize(self.floor.binary),
                         "libs": ["libc.so.6"], "libsize": 0, "static": False}
        self.extra["static"] = info
        self.extra["process_start"] = self.process_start_cost()

    def process_start_cost(self, n=200):
        """CPU of starting and ending a process that does nothing, with and
        without glibc: the fixed cost every runtime (and the container's own
        program) pays per process on this machine.  Median ms, or None."""
        src = os.path.join(self.tmp, "noop.c")
        with open(src, "w") as f:
            f.write("int main(void) { return 0; }\n")
        nolibc = os.path.join(self.tmp, "noop-nolibc.c")
        with open(nolibc, "w") as f:
            f.write("void _start(void) { __asm__ volatile(\"mov $60, %%eax\\n xor %%edi, %%edi\\n"
                    " syscall\" ::: \"memory\"); }\n")
        out = {}
        for name, argv in (("glibc", ["-static", src]),
                           ("no libc", ["-static", "-nostdlib", nolibc])):
            binary = os.path.join(self.tmp, "noop-" + name.replace(" ", ""))
            try:
                subprocess.run(["gcc", "-O2", "-o", binary, *argv], check=True, timeout=60,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            except (subprocess.SubprocessError, OSError):
                out[name] = None
                continue
            cpu = [res.cpu for res in (self.caller.call([binary]) for _ in range(n)) if res.ok()]
            out[name] = median(cpu) * 1000 if cpu else None
        log("bench: empty static program, CPU per process: glibc %s ms, no libc %s ms"
            % tuple(f"{out[k]:.2f}" if out.get(k) is not None else "?" for k in ("glibc", "no libc")))
        return out

    # -- cleanup --

    def cleanup(self):
        for r in self.runtimes:
            try:  # plus whatever the runtime still has in its state dir
                r.ids.update(e for e in os.listdir(r.root) if not e.startswith("."))
            except OSError:
                pass
            for cid in sorted(r.ids):
                try:
                    self.caller.call(r.delete(cid, force=True), timeout=10)
                except Exception:  # noqa: BLE001  keep cleaning
                    pass
        for p in self.floor_bg:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        cleanup_cgroups()


def cleanup_cgroups():
    """Remove /sys/fs/cgroup/*/hutch-bench (ours) bottom-up."""
    for ctrl in sorted(os.listdir(CG_ROOT)):
        top = os.path.join(CG_ROOT, ctrl, CG_PARENT)
        if ctrl == "unified" and os.environ.get("HUTCH_BENCH_NS") == "1":
            continue  # our private tmpfs: goes away with the namespace
        if not os.path.isdir(top) or os.path.islink(os.path.join(CG_ROOT, ctrl)):
            continue
        for attempt in range(3):
            for dirpath, dirnames, _ in sorted(os.walk(top), key=lambda t: -t[0].count("/")):
                try:
                    os.rmdir(dirpath)
                except OSError:
                    if attempt == 1:  # leftover processes of our containers: kill them
                        try:
                            with open(os.path.join(dirpath, "cgroup.procs")) as f:
                                for pid in f.read().split():
                                    os.kill(int(pid), signal.SIGKILL)
                        except OSError:
                            pass
            if not os.path.exists(top):
                break
            time.sleep(0.2)
        if os.path.exists(top):
            log(f"bench: could not remove {top}")


# ------------------------------------------------------------ reporting ----


def fmt_ms(x):
    ms = x * 1000
    return f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def fmt_kib(k):
    return f"{k / 1024:.1f} MiB" if k >= 1024 else f"{k} KiB"


def report(bench, outdir, started, elapsed):
    names = [r.name for r in bench.runtimes] + ["floor"]
    base = "hutch" if any(r.name == "hutch" and not r.broken for r in bench.runtimes) else "crun"
    lines = []
    w = lines.append
    w(f"# hutch benchmark, {started:%Y-%m-%d %H:%M UTC}")
    w("")
    w(f"Host: {platform.node()}, kernel {platform.release()}, {os.cpu_count()} CPUs, "
      f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end. "
      f"N={bench.args.n}, {'quick' if bench.args.quick else 'full'} mode, {elapsed:.0f} s.")
    w("")
    for r in bench.runtimes + [bench.floor]:
        if r.broken:
            w(f"- **{r.name} FAILED** (left out): `{r.broken}`")
    if getattr(bench, "hutch_missing", None):
        w(f"- hutch: no binary at `{bench.hutch_missing}`")
    w("")
    w(f"Cells: median (min–max); ×R is the median divided by {base}'s median "
      f"(below 1 = faster than {base}). Wall times in ms; CPU = user+sys of the runtime's "
      "whole process tree (wait4).")
    w("")
    w("| metric | " + " | ".join(names) + " |")
    w("|---|" + "---|" * len(names))

    def row(label, metric, key, fmt, unit):
        d = bench.data.get(metric, {})
        if not d:
            return
        bmed = median(d.get(base, {}).get(key, []))
        cells = []
        for n in names:
            s = d.get(n)
            if s is None:
                cells.append("n/a" if n == "floor" or not any(
                    r.name == n and r.broken for r in bench.runtimes) else "failed")
                continue
            xs = s[key]
            if not xs:
                cells.append(f"failed ({s['fail']})")
                continue
            m = median(xs)
            c = f"{fmt(m)}{unit} ({fmt(min(xs))}–{fmt(max(xs))})"
            if bmed:
                c += f" ×{m / bmed:.2f}"
            if s["fail"]:
                c += f" [{s['fail']} failed]"
            cells.append(c)
        w(f"| {label} | " + " | ".join(cells) + " |")

    order = ["run", "run (no netns)", "run (isolated)", "create", "start", "kill", "delete", "exec"]
    conc = sorted({m for m in bench.data if " x" in m},
                  key=lambda m: (int(m.split(" x")[1]), ["create", "start", "delete"].index(m.split()[0])))
    for m in order:
        row(f"{m} wall", m, "wall", fmt_ms, " ms")
    for m in ("run", "run (no netns)", "exec", "create", "delete"):
        row(f"{m} CPU", m, "cpu", fmt_ms, " ms")
    for m in conc:
        row(f"{m.split()[0]} per container, {m.split(' x')[1]} at once", m, "wall", fmt_ms, " ms")
    for m in conc:
        if not m.startswith("start"):
            row(f"{m.split()[0]} CPU per container, {m.split(' x')[1]} at once", m, "cpu", fmt_ms,
                " ms")
    for m in ("run", "exec", "create"):
        row(f"peak RSS, {m}", m, "rss", lambda k: fmt_kib(int(k)), "")
    w("")
    st = bench.extra.get("static", {})
    ml = bench.extra.get("memlimit", {})
    w("| | " + " | ".join(names) + " |")
    w("|---|" + "---|" * len(names))
    w("| version | " + " | ".join(
        st[n].get("version", "") if n in st else "" for n in names) + " |")
    w("| binary size | " + " | ".join(
        fmt_kib(st[n]["size"] // 1024) if n in st else "" for n in names) + " |")
    w("| shared libraries | " + " | ".join(
        ("static" if st[n]["static"] else f"{len(st[n]['libs'])}: " + ", ".join(st[n]["libs"]))
        if n in st else "" for n in names) + " |")
    w("| libraries' size | " + " | ".join(
        fmt_kib(st[n]["libsize"] // 1024) if n in st and st[n]["libsize"] else "" for n in names) + " |")

    def mlcell(n):
        v = ml.get(n)
        if v is None:
            return "failed" if n in [r.name for r in bench.runtimes + [bench.floor] if r.broken] else ""
        return f"{v // KiB} KiB" if isinstance(v, int) else v
    w("| smallest memory limit, `run echo hi` | " + " | ".join(mlcell(n) for n in names) + " |")
    w("")
    ps = bench.extra.get("process_start") or {}
    if ps.get("glibc") is not None:
        w(f"Process start-up on this machine (an empty static C program, median of 200): "
          f"{ps['glibc']:.2f} ms of CPU with glibc, "
          + (f"{ps['no libc']:.2f} ms without a libc. " if ps.get("no libc") is not None else ". ")
          + "Every runtime pays the glibc figure once per command, and `run` once more for the "
          "container's busybox (static glibc).")
        w("")
    targets(bench, w)
    errs = [(m, n, s["err"]) for m, d in bench.data.items() for n, s in d.items() if s["err"]]
    if errs:
        w("First error per metric and runtime:")
        w("")
        for m, n, e in errs:
            w(f"- {m} / {n}: `{e.splitlines()[-1] if e else ''}`")
        w("")
    text = "\n".join(lines)
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"data": bench.data, "extra": bench.extra, "args": vars(bench.args),
                   "broken": {r.name: r.broken for r in bench.runtimes + [bench.floor]}},
                  f, indent=1)
    print(text, flush=True)
    plot(bench, outdir, names)


def targets(bench, w):
    """Issue 8's targets beside the measured values (a report, not a check)."""
    if not any(r.name == "hutch" and not r.broken for r in bench.runtimes):
        return

    def med(metric, runner, key="wall"):
        return median(bench.data.get(metric, {}).get(runner, {}).get(key, []))

    def ratio(metric, key="wall"):
        h, c = med(metric, "hutch", key), med(metric, "crun", key)
        return f"{h / c:.2f}" if h and c else "n/a"
    rows = [("`run` wall, hutch/crun", "<= 0.5", ratio("run")),
            ("`run` CPU, hutch/crun", "<= 0.5", ratio("run", "cpu")),
            ("`exec` wall, hutch/crun", "<= 0.5", ratio("exec")),
            ("peak RSS (`run`), hutch/crun", "<= 0.6", ratio("run", "rss"))]
    ml = bench.extra.get("memlimit", {}).get("hutch")
    rows.append(("smallest memory limit, hutch", "<= 160 KiB",
                 f"{ml // KiB} KiB" if isinstance(ml, int) else str(ml)))
    sizes = sorted({int(m.split(" x")[1]) for m in bench.data if " x" in m})
    if len(sizes) > 1:
        for op in ("create", "delete"):
            a, b = med(f"{op} x{sizes[0]}", "hutch"), med(f"{op} x{sizes[-1]}", "hutch")
            rows.append((f"{op} per container, {sizes[-1]} at once / 1 at once, hutch", "flat (~1)",
                         f"{b / a:.2f}" if a and b else "n/a"))
            a, b = (med(f"{op} x{sizes[0]}", "hutch", "cpu"),
                    med(f"{op} x{sizes[-1]}", "hutch", "cpu"))
            rows.append((f"{op} CPU per container, {sizes[-1]} at once / 1 at once, hutch",
                         "flat (~1)", f"{b / a:.2f}" if a and b else "n/a"))
    w("Issue 8 targets (measured in this run; reported, not asserted):")
    w("")
    w("| target | wanted | measured |")
    w("|---|---|---|")
    for label, want, got in rows:
        w(f"| {label} | {want} | {got} |")
    w("")


def plot(bench, outdir, names):
    gp = shutil.which("gnuplot")
    if not gp:
        log("bench: no gnuplot, no PNG")
        return
    ops = [m for m in ("run", "run (no netns)", "run (isolated)", "create", "start", "kill",
                       "delete", "exec") if m in bench.data]
    with open(os.path.join(outdir, "wall.dat"), "w") as f:
        f.write("op " + " ".join(names) + "\n")
        for m in ops:
            vals = [median(bench.data[m].get(n, {}).get("wall", [])) for n in names]
            f.write('"' + m + '" ' + " ".join(f"{v * 1000:.3f}" if v else "NaN" for v in vals) + "\n")
    with open(os.path.join(outdir, "cpu.dat"), "w") as f:
        f.write("op " + " ".join(names) + "\n")
        for m in [m for m in ("run", "run (no netns)", "exec") if m in bench.data]:
            vals = [median(bench.data[m].get(n, {}).get("cpu", [])) for n in names]
            f.write('"' + m + '" ' + " ".join(f"{v * 1000:.3f}" if v else "NaN" for v in vals) + "\n")
    sizes = sorted({int(m.split(" x")[1]) for m in bench.data if " x" in m})
    cnames = [n for n in names if n != "floor"]
    with open(os.path.join(outdir, "concurrent.dat"), "w") as f:
        f.write("k " + " ".join(f"{n}-create {n}-delete" for n in cnames) + "\n")
        for k in sizes:
            row = [str(k)]
            for n in cnames:
                for op in ("create", "delete"):
                    v = median(bench.data.get(f"{op} x{k}", {}).get(n, {}).get("wall", []))
                    row.append(f"{v * 1000:.3f}" if v else "NaN")
            f.write(" ".join(row) + "\n")
    ncol = len(names)
    panels = []
    if ops:
        panels.append(f"""set title "wall time per operation (ms)"
plot for [i=2:{ncol + 1}] "{outdir}/wall.dat" using i:xtic(1) title columnhead(i)""")
    if any(m in bench.data for m in ("run", "run (no netns)", "exec")):
        panels.append(f"""set title "CPU time, user+sys of the tree (ms)"
plot for [i=2:{ncol + 1}] "{outdir}/cpu.dat" using i:xtic(1) title columnhead(i)""")
    if sizes:
        panels.append(f"""set style data linespoints
set xtics norotate
set title "per-container time vs containers at once (ms)"
set xlabel "containers"
set logscale x
set xrange [0.8:{max(sizes) * 1.3}]
plot for [i=2:{2 * len(cnames) + 1}] "{outdir}/concurrent.dat" using 1:i title columnhead(i) \\
    lc i/2 dt i%2+1 lw 1.5""")
    if not panels:
        return
    body = "\n".join(panels)
    script = f"""
set terminal pngcairo size {500 * len(panels)},500 font ",9"
set output "{outdir}/results.png"
set multiplot layout 1,{len(panels)} title "hutch vs crun vs runc vs floor (medians)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key top left
set grid ytics
set xtics rotate by -30
{body}
unset multiplot
"""
    with open(os.path.join(outdir, "plot.gp"), "w") as f:
        f.write(script)
    r = subprocess.run([gp, os.path.join(outdir, "plot.gp")], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        log(f"bench: gnuplot failed: {r.stderr.strip()[-300:]}")
    else:
        log(f"bench: plot {outdir}/results.png")


# ----------------------------------------------------------------- main ----


def state_on_tmpfs(tmp):
    """The runtimes' --root dirs on a tmpfs (private to our namespace), as
    their defaults (/run/hutch, /run/crun, /run/runc) are on a real host."""
    state = os.path.join(tmp, "state")
    os.makedirs(state)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=700", "tmpfs", state],
                   check=True, timeout=10)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small N for a smoke test")
    ap.add_argument("-n", type=int, default=None, help="repetitions (default 100; $BENCH_N)")
    ap.add_argument("--hutch", default=os.environ.get("HUTCH_BIN", os.path.join(REPO, "build", "hutch")))
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--only", default="", help="comma list of phases: run,nonet,isolated,"
                    "lifecycle,exec,concurrent,memlimit")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench: needs root (containers, cgroups, mount namespace)")
    if os.environ.get("HUTCH_BENCH_NS") != "1":
        ensure_packages()
        enter_private_namespace(sys.argv[1:])
    if args.n is None:
        args.n = int(os.environ.get("BENCH_N", "5" if args.quick else "100"))
    hide_unified_hierarchy()

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    started = datetime.datetime.now(datetime.timezone.utc)
    outdir = os.path.join(args.out, started.strftime("%Y%m%dT%H%M%SZ"))
    tmp = tempfile.mkdtemp(prefix="hutch-bench-")
    state_on_tmpfs(tmp)
    bench = None
    phases = set(args.only.split(",")) if args.only else None
    want = lambda p: phases is None or p in phases  # noqa: E731
    t0 = time.monotonic()
    try:
        bench = Bench(args, tmp)
        bench.smoke()
        n = args.n
        if want("run"):
            bench.phase_run(n, nonet=False)
        if want("nonet"):
            bench.phase_run(n, nonet=True)
        if want("isolated"):
            bench.phase_run(max(5, n // 5), nonet=False, pause=0.25)
        if want("lifecycle"):
            bench.phase_lifecycle(max(1, n // 2) if not args.quick else n)
        if want("exec"):
            bench.phase_exec(n)
        if want("concurrent"):
            if args.quick:
                bench.phase_concurrent([1, 5, 10], 1)
            else:
                bench.phase_concurrent([1, 10, 50], 3)
        if want("memlimit"):
            bench.phase_memlimit(tries=1 if args.quick else 2, step=(16 if args.quick else 4) * KiB)
        bench.phase_static()
        os.makedirs(outdir, exist_ok=True)
        report(bench, outdir, started, time.monotonic() - t0)
        log(f"bench: results in {outdir}")
    except KeyboardInterrupt:
        log("bench: interrupted, cleaning up")
        return_code = 130
    else:
        return_code = 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if bench:
            bench.cleanup()
        else:
            cleanup_cgroups()
        # the state tmpfs first, or its mount point (and so tmp) would stay
        subprocess.run(["umount", os.path.join(tmp, "state")], timeout=10,
                       stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(return_code)


if __name__ == "__main__":
    main()
