"""The README's demo (tools/demo.sh, what `make demo` runs) works and cleans up."""

import glob
import os

from conftest import HUTCH_BIN, REPO, run_cmd


def test_demo_prints_what_the_container_sees():
    before = set(glob.glob("/tmp/hutch-demo.*"))
    r = run_cmd(["sh", os.path.join(REPO, "tools", "demo.sh")], timeout=120,
                env=dict(os.environ, HUTCH_BIN=HUTCH_BIN))
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert "hostname: hutch-demo" in lines
    assert "pid=1" in lines
    assert any(" /proc proc " in line for line in lines), "mounts not printed"
    assert any(line.startswith("memory limit: 67108864 ") for line in lines), r.stdout
    assert "pids limit: 64" in lines
    assert set(glob.glob("/tmp/hutch-demo.*")) == before, "demo left its temp dir"
