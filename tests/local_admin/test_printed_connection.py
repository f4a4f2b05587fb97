"""`flyte-local-admin` prints the Airflow connection for its mode, and that connection works.

Each mode is started as a user starts it (the CLI, in its own process); the printed lines are
run through a real shell, and the connection they define is used by the provider's `FlyteHook`
(`test_connection()`, a real authenticated GetVersion) against that running admin.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from airflow_provider_flyte.local_admin import ClientSecretAuth, LocalFlyteAdmin
from tests.local_admin.conftest import DOMAIN, PROJECT, SIMPLE

CLI = [sys.executable, "-m", "airflow_provider_flyte.local_admin.cli", "--port", "0"]
SECRET = 's3cr/t\'with "quotes" and $HOME'  # survives the shell quoting of both printed lines
AUTH = ["--auth", "client-secret", "--client-id", "airflow-client", "--client-secret", SECRET]
AIRFLOW = str(Path(sys.executable).parent / "airflow")


@contextmanager
def running_cli(*args: str) -> Iterator[list[str]]:
    """Starts the CLI; yields every line it printed up to the `airflow connections add` line."""
    process = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        while not lines or not lines[-1].lstrip().startswith("airflow connections add"):
            line = process.stdout.readline()
            assert line, f"the admin stopped after printing {lines}"
            lines.append(line.rstrip("\n"))
        yield lines
    finally:
        process.terminate()
        process.wait(timeout=20)
        process.stdout.close()


def shell_env(export_line: str) -> dict[str, str]:
    """Runs the printed export line in bash and returns what it exported (AIRFLOW_CONN_* only)."""
    done = subprocess.run(
        ["bash", "-c", f"{export_line}\nenv -0"],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ["PATH"]},
    )
    assert done.returncode == 0, done.stderr
    pairs = (item.split("=", 1) for item in done.stdout.split("\0") if item.startswith("AIRFLOW_CONN_"))
    return dict(pairs)


def expected_lines(port: int, conn_id: str, *, tls: str | None = None, token: str | None = None) -> list[str]:
    scheme = "https" if tls else "http"
    extra: dict = {"project": PROJECT, "domain": DOMAIN}
    extra.update({"ca_cert_path": tls} if tls else {"insecure": True})
    connection: dict = {"conn_type": "flyte", "host": "127.0.0.1", "port": port}
    add = [
        "airflow",
        "connections",
        "add",
        conn_id,
        "--conn-type",
        "flyte",
        "--conn-host",
        "127.0.0.1",
        "--conn-port",
        str(port),
    ]
    if token:
        connection.update(login="airflow-client", password=SECRET)
        extra["auth_mode"] = "client_credentials"
        add += ["--conn-login", "airflow-client", "--conn-password", SECRET]
    connection["extra"] = extra
    add += ["--conn-extra", json.dumps(extra)]
    mode = ("TLS with the admin's CA file" if tls else "plaintext") + (", client credentials" if token else ", no auth")
    return [
        f"FlyteAdmin listening on 127.0.0.1:{port}",
        *([f"CA certificate: {tls}"] if tls else []),
        *([f"Token endpoint: {token}"] if token else []),
        f"Console: {scheme}://127.0.0.1:{port}/console",
        f"Airflow connection {conn_id!r} ({mode}), either of:",
        f"  export AIRFLOW_CONN_{conn_id.upper()}={shlex.quote(json.dumps(connection))}",
        "  " + shlex.join(add),
    ]


MODES = {
    "plaintext": [],
    "tls": ["--tls"],
    "client_credentials": AUTH,
    "tls_client_credentials": ["--tls", *AUTH],
}


@pytest.mark.parametrize("mode", MODES)
def test_the_cli_prints_the_connection_for_its_mode_and_it_works_in_a_flyte_hook(mode, monkeypatch):
    from airflow_provider_flyte.hooks.flyte import FlyteHook

    conn_id = f"printed_{mode}"
    with running_cli(*MODES[mode], "--conn-id", conn_id, "--workflows", str(SIMPLE)) as lines:
        port = int(lines[0].rsplit(":", 1)[1])
        tls = lines[1].split(": ", 1)[1] if "--tls" in MODES[mode] else None
        token = next((line.split(": ", 1)[1] for line in lines if line.startswith("Token endpoint: ")), None)
        assert lines == expected_lines(port, conn_id, tls=tls, token=token)
        assert bool(token) == ("--auth" in MODES[mode])

        exported = shell_env(lines[-2])
        assert list(exported) == [f"AIRFLOW_CONN_{conn_id.upper()}"]
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", exported[f"AIRFLOW_CONN_{conn_id.upper()}"])
        hook = FlyteHook(conn_id)
        ok, message = hook.test_connection()

    assert ok, message
    assert hook.config.project == PROJECT and hook.config.domain == DOMAIN
    assert hook.config.insecure == (tls is None)


def test_the_printed_airflow_connections_add_line_works_in_airflow(airflow_db):
    """The command line, pasted into a shell: Airflow stores the connection and `connections test` passes."""
    conn_id = "printed_added"
    with running_cli(*MODES["tls_client_credentials"], "--conn-id", conn_id) as lines:
        add_line = lines[-1].strip()
        env = {**os.environ, "PATH": f"{Path(AIRFLOW).parent}{os.pathsep}{os.environ['PATH']}"}
        env.pop(f"AIRFLOW_CONN_{conn_id.upper()}", None)
        added = subprocess.run(
            ["bash", "-c", add_line], check=False, capture_output=True, text=True, timeout=180, env=env
        )
        assert added.returncode == 0, added.stdout + added.stderr
        tested = subprocess.run(
            [AIRFLOW, "connections", "test", conn_id],
            check=False,
            capture_output=True,
            text=True,
            timeout=180,
            env={**env, "AIRFLOW__CORE__TEST_CONNECTION": "Enabled"},
        )
    assert "Connection success!" in tested.stdout, tested.stdout + tested.stderr


def test_the_same_connection_from_python():
    auth = ClientSecretAuth("py-client", "py-secret")
    with LocalFlyteAdmin(workflows=[SIMPLE], project=PROJECT, domain="staging", port=0, auth=auth, tls=True) as admin:
        connection = admin.airflow_connection()
        env = admin.airflow_connection_env("my_flyte")
        text = admin.airflow_connection_text("my_flyte")

    assert connection == {
        "conn_type": "flyte",
        "host": "127.0.0.1",
        "port": admin.port,
        "login": "py-client",
        "password": "py-secret",
        "extra": {
            "project": PROJECT,
            "domain": "staging",
            "ca_cert_path": connection["extra"]["ca_cert_path"],
            "auth_mode": "client_credentials",
        },
    }
    assert connection["extra"]["ca_cert_path"].endswith("ca.pem")
    assert env == {"AIRFLOW_CONN_MY_FLYTE": json.dumps(connection)}
    assert text.splitlines()[1] == f"  export AIRFLOW_CONN_MY_FLYTE={shlex.quote(json.dumps(connection))}"
    assert text.splitlines()[2].startswith("  airflow connections add my_flyte --conn-type flyte --conn-host 127.0.0.1")


def test_a_connection_is_only_there_once_the_admin_listens():
    with pytest.raises(RuntimeError, match="not started"):
        LocalFlyteAdmin(workflows=[SIMPLE]).airflow_connection()


def test_host_binds_every_interface_and_the_connection_names_a_reachable_host(monkeypatch):
    from airflow_provider_flyte.hooks.flyte import FlyteHook

    with running_cli("--host", "0.0.0.0", "--tls", *AUTH, "--conn-id", "wildcard") as lines:
        port = int(lines[0].rsplit(":", 1)[1])
        assert lines[0] == f"FlyteAdmin listening on 0.0.0.0:{port}"
        assert lines[2].startswith("Token endpoint: https://127.0.0.1:")  # not 0.0.0.0: clients must reach it
        connection = json.loads(shlex.split(lines[-2].strip())[1].split("=", 1)[1])
        assert (connection["host"], connection["port"]) == ("127.0.0.1", port)
        monkeypatch.setenv("AIRFLOW_CONN_WILDCARD", json.dumps(connection))
        ok, message = FlyteHook("wildcard").test_connection()
    assert ok, message


def test_public_host_names_the_admin_in_the_connection_token_endpoint_and_certificate():
    from cryptography import x509

    with LocalFlyteAdmin(
        workflows=[SIMPLE],
        port=0,
        host="0.0.0.0",
        public_host="localhost",
        tls=True,
        auth=ClientSecretAuth("c", "s"),
    ) as admin:
        assert admin.endpoint == f"localhost:{admin.port}" and admin.listen_address == f"0.0.0.0:{admin.port}"
        assert admin.airflow_connection()["host"] == "localhost"
        assert admin.token_endpoint.startswith("https://localhost:")
        assert admin.console_url == f"https://localhost:{admin.port}/console"
        with open(admin.ca_cert_path, "rb") as pem:
            names = (
                x509.load_pem_x509_certificate(pem.read())
                .extensions.get_extension_for_class(x509.SubjectAlternativeName)
                .value
            )
        assert "localhost" in names.get_values_for_type(x509.DNSName)


README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_blocks() -> list[list[str]]:
    """The `console` blocks of the README's local-admin section: the lines after the `$` command."""
    section = README.read_text().split("## The local Flyte admin", 1)[1].split("\n## ", 1)[0]
    blocks = section.split("```console\n")[1:]
    return [block.split("```", 1)[0].splitlines()[1:] for block in blocks]


def _normalised(lines: list[str], port: str) -> str:
    """Lines with the port, the CA file's directory and the token endpoint's port made comparable."""
    import re

    text = "\n".join(lines).replace(f"127.0.0.1:{port}", "127.0.0.1:PORT")
    text = text.replace(f'"port": {port}', '"port": PORT').replace(f"--conn-port {port}", "--conn-port PORT")
    text = re.sub(r"/tmp/flyte-local-admin-tls-\w+/", "/tmp/flyte-local-admin-tls-X/", text)
    return re.sub(r"https://127\.0\.0\.1:\d+/oauth2", "https://127.0.0.1:TOKEN/oauth2", text)


@pytest.mark.parametrize(
    ("block", "args"),
    [(0, []), (1, ["--tls", "--auth", "client-secret", "--client-id", "airflow", "--client-secret", "s3cret"])],
    ids=["plaintext", "tls_client_credentials"],
)
def test_the_readme_shows_what_the_cli_prints(block, args):
    shown = _readme_blocks()[block]
    with running_cli(*args) as printed:
        port = printed[0].rsplit(":", 1)[1]
    assert _normalised(printed, port) == _normalised(shown, "30080")
