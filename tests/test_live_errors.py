"""Bad input to the live audit: one line on stderr each, never a traceback, exit 2."""

from __future__ import annotations

import socket
import time

import pytest
from moto_support import clients, make_cluster, make_network, shared_local_aws

from validator.cli import main

REGION = "eu-west-1"


@pytest.fixture
def env(monkeypatch):
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_MAX_ATTEMPTS", "AWS_REGION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    return monkeypatch


@pytest.fixture
def aws(env):
    server = shared_local_aws()
    server.reset()
    yield server
    server.reset()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(capsys, *argv: str, report: bool = False) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert (out != "") == report
    assert "Traceback" not in err
    assert err.count("\n") == 1, err  # exactly one line
    return code, err


def test_cluster_not_found(aws, capsys):
    rds, ec2 = clients(aws.url, REGION)
    make_cluster(rds, "exists", make_network(rds, ec2, REGION))
    code, err = _run(
        capsys, "--live", "--cluster", "exists", "--cluster", "missing", "--region", REGION, "--endpoint-url", aws.url
    )
    assert code == 2
    assert "missing" in err and "not found" in err and REGION in err and "exists" not in err


def test_no_cluster_in_the_regions(aws, capsys):
    code, err = _run(capsys, "--live", "--all", "--region", REGION, "--endpoint-url", aws.url, report=True)
    assert code == 2 and "no Aurora PostgreSQL cluster found" in err


def test_endpoint_unreachable_fails_fast(env, capsys):
    started = time.monotonic()
    code, err = _run(
        capsys, "--live", "--all", "--region", REGION, "--endpoint-url", f"http://127.0.0.1:{_closed_port()}"
    )
    assert code == 2 and "cannot connect to the endpoint" in err
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999", "http://[::1", "http://127.0.0.1:port"])
def test_malformed_endpoint_url(env, capsys, url):
    code, err = _run(capsys, "--live", "--all", "--region", REGION, "--endpoint-url", url)
    assert code == 2 and f"endpoint URL {url!r}" in err


def test_malformed_endpoint_url_from_the_environment(env, capsys):
    env.setenv("AWS_ENDPOINT_URL", "http://[::1")
    code, err = _run(capsys, "--live", "--all", "--region", REGION)
    assert code == 2 and "endpoint URL" in err


def test_endpoint_from_the_environment_unreachable(env, capsys):
    env.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{_closed_port()}")
    env.setenv("AWS_MAX_ATTEMPTS", "2")
    code, err = _run(capsys, "--live", "--all", "--region", REGION)
    assert code == 2 and "cannot connect to the endpoint" in err


def test_no_credentials(aws, env, capsys):
    env.delenv("AWS_ACCESS_KEY_ID")
    env.delenv("AWS_SECRET_ACCESS_KEY")
    env.delenv("AWS_SESSION_TOKEN", raising=False)
    env.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    env.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    env.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)
    code, err = _run(capsys, "--live", "--all", "--region", REGION, "--endpoint-url", aws.url)
    assert code == 2 and "no credentials" in err


def test_unknown_region(env, capsys):
    code, err = _run(capsys, "--live", "--all", "--region", "xx-moon-1")
    assert code == 2 and "unknown AWS region 'xx-moon-1'" in err


def test_no_region_at_all(env, capsys):
    code, err = _run(capsys, "--live", "--all")
    assert code == 2 and "no AWS region" in err


def test_nothing_selected(env, capsys):
    code, err = _run(capsys, "--live", "--region", REGION)
    assert code == 2 and "--cluster" in err and "--all" in err


def test_not_a_cluster_arn(env, capsys):
    code, err = _run(capsys, "--live", "--cluster", "arn:aws:rds:eu-west-1:123456789012:db:an-instance")
    assert code == 2 and "not an Aurora DB cluster ARN" in err


def test_unknown_aws_profile(env, capsys):
    code, err = _run(capsys, "--live", "--all", "--region", REGION, "--profile", "no-such-profile")
    assert code == 2 and "'no-such-profile' is not configured" in err


def test_bad_retry_setting(env, capsys):
    env.setenv("AWS_MAX_ATTEMPTS", "many")
    code, err = _run(capsys, "--live", "--all", "--region", REGION)
    assert code == 2 and "AWS_MAX_ATTEMPTS" in err


def test_cluster_and_all_need_live(env, capsys):
    code, err = _run(capsys, "--cluster", "x")
    assert code == 2 and "--live" in err
