"""``aurora-validate demo --serve`` serves until SIGINT or SIGTERM, whatever its standard input is."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from validator.demo import READY_PREFIX

pytest.importorskip("moto.server", reason="moto[server] is not installed")


def start(prefix: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", "validator.cli", "demo", "--serve", "--port", "0"],
        stdin=subprocess.DEVNULL,  # as under nohup, `</dev/null` or a CI background step
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith(READY_PREFIX), line
    return proc, line[len(READY_PREFIX) :].strip()


def answers(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=10) as response:
        return response.status == 200


@pytest.mark.parametrize(
    ("prefix", "stop"),
    [([], signal.SIGINT), (["nohup"], signal.SIGTERM)],
    ids=["sigint", "nohup-sigterm"],
)
def test_serve_keeps_serving_with_standard_input_closed(prefix: list[str], stop: signal.Signals) -> None:
    proc, url = start(prefix)
    try:
        time.sleep(2)  # the old server exited as soon as it read end-of-file on standard input
        assert proc.poll() is None, "the server stopped by itself"
        assert answers(url)
        proc.send_signal(stop)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# LocalAws (the demo and the live tests) still stops its child by closing the pipe: tests/test_live_model.py.
