"""docker-compose.yaml (and its real-Flyte override), checked for real without a Docker engine.

The files are parsed as Compose parses them (YAML anchors and merge keys resolved) and validated
against the Compose Specification's JSON schema (vendored in tests/vendor/compose-spec). The
services must run the commands the native deployment suite runs: those are recorded by running
``tests/deployment/harness.start_airflow`` with process creation, waiting and the migration
replaced by recorders, so a flag added there and not here (or the reverse) fails this test.
Where a Compose v2 binary is installed, ``docker compose config`` checks the files too.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import types
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yaml"
REAL_FLYTE = REPO / "docker-compose.real-flyte.yaml"
SCHEMA = REPO / "tests" / "vendor" / "compose-spec" / "compose-spec.json"
EXAMPLE_DAGS = REPO / "example_dags"
SOURCE = "/opt/airflow/src/airflow-provider-flyte"  # where the Dockerfile copies the checkout

AIRFLOW_SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
ADMIN = "flyte-local-admin"
# Settings of the native suite that tune it for a test on 2 cores, or that compose gives otherwise
# (the api-server's host and port are its flags); every other setting must be in the compose file.
NATIVE_ONLY_SETTINGS = {
    "AIRFLOW__CORE__UNIT_TEST_MODE",
    "AIRFLOW__CORE__PARALLELISM",
    "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC",
    "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC",
    "AIRFLOW__LOGGING__LOGGING_LEVEL",
    "AIRFLOW__API__HOST",
    "AIRFLOW__API__PORT",
    "AIRFLOW__API__WORKERS",
}
# Flags whose values are where a process listens: 127.0.0.1 and a free port natively, every
# interface of the container and a fixed port in compose.
ADDRESS_FLAGS = {"--host", "--port"}


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(COMPOSE)


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def native(tmp_path_factory) -> dict[str, Any]:
    """What ``start_airflow`` of the deployment suite runs: ``{"commands": {name: args}, "env": {...}}``."""
    from tests import airflow_processes
    from tests.deployment import harness

    commands: dict[str, list[str]] = {}
    envs: dict[str, dict[str, str]] = {}

    class Recorded:
        """Stands in for ``airflow_processes.Process``: records the command instead of starting it."""

        def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
            self.name, self.args, self.env = name, list(args), env
            commands[name], envs[name] = list(args), env

        def alive(self) -> bool:
            return True

        def signal(self, *args: Any, **kwargs: Any) -> None:
            pass

        def reap(self, *args: Any, **kwargs: Any) -> None:
            pass

        def tail(self, *args: Any, **kwargs: Any) -> str:
            return ""

    def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        commands["airflow-init"] = list(args[1:])  # args[0] is the venv's airflow
        return subprocess.CompletedProcess(args, 0)

    patch = pytest.MonkeyPatch()
    try:
        patch.setattr(airflow_processes, "Process", Recorded)
        patch.setattr(airflow_processes, "wait_for", lambda *args, **kwargs: True)
        patch.setattr(harness, "subprocess", types.SimpleNamespace(run=run, STDOUT=subprocess.STDOUT,
                                                                   DEVNULL=subprocess.DEVNULL))
        postgres = types.SimpleNamespace(create_database=lambda name: f"postgresql+psycopg2://u@127.0.0.1:1/{name}")
        admin = types.SimpleNamespace(endpoint="127.0.0.1:30080")
        with harness.start_airflow(postgres, admin):
            pass
    finally:
        patch.undo()
    return {"commands": commands, "env": envs["scheduler"]}


def command(service: dict[str, Any]) -> list[str]:
    """The service's command as the official image runs it (its entrypoint prefixes ``airflow``)."""
    args = service["command"]
    assert isinstance(args, list), "commands are lists, so no shell splits or expands them"
    return [str(a) for a in args]


def flag(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def shape(args: list[str]) -> list[str]:
    """The command with the values of listening flags blanked."""
    return [("<address>" if i and args[i - 1] in ADDRESS_FLAGS else a) for i, a in enumerate(args)]


def volume_targets(service: dict[str, Any]) -> dict[str, str]:
    """Container path -> source (a named volume, or a host path relative to the repository)."""
    found = {}
    for spec in service.get("volumes", []):
        source, target, *_ = spec.split(":")
        found[target] = source
    return found


def host_path(service: dict[str, Any], container_path: str) -> Path:
    """The file of this repository that ``container_path`` is in the service's container."""
    path = PurePosixPath(container_path)
    for target, source in volume_targets(service).items():
        if source.startswith("./") and path.is_relative_to(target):
            return REPO / source / path.relative_to(target)
    raise AssertionError(f"{container_path} is not in a folder of the checkout mounted into the container")


def env(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in (service.get("environment") or {}).items()}


# --- the Compose Specification -------------------------------------------------------------------


@pytest.mark.parametrize("path", [COMPOSE, REAL_FLYTE], ids=lambda p: p.name)
def test_the_file_is_valid_against_the_compose_specification_schema(path):
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    document = load(path)

    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]

    assert errors == []
    broken = copy.deepcopy(document)
    next(iter(broken["services"].values()))["helthcheck"] = {"test": ["CMD", "true"]}
    assert not validator.is_valid(broken), "the schema must reject a misspelt key"


# --- services, images, commands ------------------------------------------------------------------


def test_the_stack_is_the_deployment_topology(services):
    assert set(services) == {"postgres", "airflow-init", ADMIN, *AIRFLOW_SERVICES}


def test_every_service_but_postgres_runs_the_image_built_from_this_checkout(services):
    dockerfile = (REPO / "Dockerfile").read_text()
    base_default = re.search(r"^ARG AIRFLOW_IMAGE=(\S+)$", dockerfile, re.MULTILINE).group(1)

    assert re.match(r"postgres:\d+$", services["postgres"]["image"])
    built = {name: s for name, s in services.items() if name != "postgres"}
    assert {s["image"] for s in built.values()} == {"airflow-provider-flyte:dev"}
    for name, service in built.items():
        assert service["build"]["context"] == ".", name
        assert service["build"]["args"]["AIRFLOW_IMAGE"] == f"${{AIRFLOW_IMAGE:-{base_default}}}", name


def test_the_dockerfile_extends_the_official_image_of_the_airflow_the_tests_run():
    from importlib.metadata import version

    dockerfile = (REPO / "Dockerfile").read_text()
    base = re.search(r"^ARG AIRFLOW_IMAGE=apache/airflow:(\d+\.\d+)\.\d+-python3\.\d+$", dockerfile, re.MULTILINE)
    tested = ".".join(version("apache-airflow").split(".")[:2])

    assert base and base.group(1) == tested
    assert re.search(r"^FROM \$\{AIRFLOW_IMAGE\}$", dockerfile, re.MULTILINE)
    # installed from the checkout, with Airflow held at the image's version
    assert re.search(r"^COPY --chown=airflow:0 \. (\S+)$", dockerfile, re.MULTILINE).group(1) == SOURCE + "/"
    assert f'pip install --no-cache-dir "apache-airflow==${{AIRFLOW_VERSION}}" {SOURCE}' in dockerfile


def test_the_build_context_keeps_what_the_package_build_reads():
    """.dockerignore keeps the checkout's bulk out, and none of the package's sources."""
    import fnmatch

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")

    ignored = [
        line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    includes = project["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {
        p.name
        for p in REPO.iterdir()
        if (p / "__init__.py").exists() and any(fnmatch.fnmatch(p.name, i) for i in includes)
    }

    def kept(name: str) -> bool:
        return not any(fnmatch.fnmatch(name, pattern) for pattern in ignored)

    assert "airflow_provider_flyte" in packages
    assert all(kept(name) for name in ("pyproject.toml", project["project"]["readme"], *packages))
    assert not any(kept(name) for name in (".venv", ".git", "tests", "example_dags"))


def test_airflow_services_run_the_commands_of_the_native_deployment_suite(services, native):
    recorded = native["commands"]

    assert set(recorded) == {"airflow-init", *AIRFLOW_SERVICES}
    assert command(services["airflow-init"]) == recorded["airflow-init"] == ["db", "migrate"]
    for name in AIRFLOW_SERVICES:
        assert shape(command(services[name])) == shape(recorded[name]), name
        assert "entrypoint" not in services[name], f"{name} runs through the image's entrypoint (airflow ...)"


def test_the_api_server_listens_on_every_interface_and_is_published_on_localhost_8080(services):
    args = command(services["api-server"])

    assert flag(args, "--host") == "0.0.0.0"
    assert services["api-server"]["ports"] == [f"127.0.0.1:8080:{flag(args, '--port')}"]


def test_the_local_admin_serves_the_example_workflows_from_a_state_dir_on_a_volume(services):
    from airflow_provider_flyte.local_admin.cli import parse_args
    from tests.conftest import EXAMPLE_WORKFLOWS

    admin = services[ADMIN]
    args = command(admin)
    assert args[0] == "flyte-local-admin" and admin["entrypoint"] == ["/usr/bin/dumb-init", "--"]
    cli_args = args[1:]
    binds_any = _cli_accepts(["--host", "0.0.0.0", "--public-host", ADMIN])
    if not binds_any:  # checked below: the rest must parse today
        for name in ("--host", "--public-host"):
            at = cli_args.index(name)
            cli_args = cli_args[:at] + cli_args[at + 2:]
    parsed = parse_args(cli_args)

    assert parsed.auth == "none" and not parsed.tls
    assert flag(args, "--host") == "0.0.0.0"
    assert [host_path(admin, w) for w in parsed.workflows] == EXAMPLE_WORKFLOWS
    named = {t for t, s in volume_targets(admin).items() if not s.startswith(("./", "/"))}
    assert parsed.state_dir in named
    conn = json.loads(env(services["scheduler"])["AIRFLOW_CONN_FLYTE_CONN"])
    assert (conn["host"], conn["port"]) == (ADMIN, parsed.port)
    assert (conn["extra"]["project"], conn["extra"]["domain"]) == (parsed.project, parsed.domain)
    assert flag(args, "--public-host") == ADMIN  # the name in its connection, token and console URLs
    assert str(parsed.port) in " ".join(admin["healthcheck"]["test"])
    # the console, on the same port, for the browser; the connection's console links point there
    assert admin["ports"] == [f"127.0.0.1:{parsed.port}:{parsed.port}"]
    assert conn["extra"]["console_url"] == f"http://localhost:{parsed.port}"
    if binds_any:
        assert (parsed.host, parsed.public_host) == ("0.0.0.0", ADMIN)
    else:
        pytest.xfail(
            "flyte-local-admin has no --host/--public-host: it binds 127.0.0.1 only, so the other containers "
            "cannot reach it"
        )


def _cli_accepts(args: list[str]) -> bool:
    from airflow_provider_flyte.local_admin.cli import parse_args

    try:
        parse_args(args)
    except SystemExit:
        return False
    return True


# --- healthchecks and start order ----------------------------------------------------------------


def test_every_long_running_service_has_a_healthcheck_of_what_it_serves(services):
    def test_of(name: str) -> str:
        return " ".join(services[name]["healthcheck"]["test"])

    assert test_of("postgres") == "CMD pg_isready -U airflow"
    port = flag(command(services["api-server"]), "--port")
    assert test_of("api-server") == f"CMD curl --fail http://localhost:{port}/api/v2/monitor/health"
    assert test_of("scheduler") == "CMD curl --fail http://localhost:8974/health"
    assert env(services["scheduler"])["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "True"
    for name, job in (("dag-processor", "DagProcessorJob"), ("triggerer", "TriggererJob")):
        assert test_of(name) == f'CMD-SHELL airflow jobs check --job-type {job} --hostname "$${{HOSTNAME}}"'
    assert "grpc.channel_ready_future" in test_of(ADMIN)
    assert "healthcheck" not in services["airflow-init"] and "restart" not in services["airflow-init"]
    for name in ("postgres", ADMIN, *AIRFLOW_SERVICES):
        assert services[name]["restart"] == "always", name


def test_services_start_in_dependency_order(services):
    depends = {name: s.get("depends_on", {}) for name, s in services.items()}
    for name, needs in depends.items():
        for needed, how in needs.items():
            assert needed in services, f"{name} depends on unknown {needed}"
            if how["condition"] == "service_healthy":
                assert "healthcheck" in services[needed], f"{name} waits for {needed} to be healthy: no healthcheck"

    order: list[str] = []
    while len(order) < len(services):
        ready = sorted(n for n in services if n not in order and set(depends[n]) <= set(order))
        assert ready, f"dependency cycle among {set(services) - set(order)}"
        order.extend(ready)

    assert order.index("postgres") < order.index("airflow-init") < min(order.index(n) for n in AIRFLOW_SERVICES)
    assert depends["airflow-init"] == {"postgres": {"condition": "service_healthy"}}
    for name in AIRFLOW_SERVICES:
        assert depends[name]["postgres"] == {"condition": "service_healthy"}
        assert depends[name]["airflow-init"] == {"condition": "service_completed_successfully"}
    # LocalExecutor: the scheduler runs the tasks, which talk to the execution API and to Flyte
    assert depends["scheduler"]["api-server"] == {"condition": "service_healthy"}
    for name in ("scheduler", "triggerer"):
        # required: false, so the real-Flyte override can leave the local admin out
        assert depends[name][ADMIN] == {"condition": "service_healthy", "required": False}
    assert ADMIN not in depends["airflow-init"] and not depends[ADMIN]


# --- volumes and environment ---------------------------------------------------------------------


def test_example_dags_is_the_dag_folder_of_every_airflow_service(compose, services):
    for name in ("airflow-init", *AIRFLOW_SERVICES):
        service = services[name]
        folder = env(service)["AIRFLOW__CORE__DAGS_FOLDER"]
        assert volume_targets(service)[folder] == "./example_dags", name
        assert volume_targets(service)["/opt/airflow/logs"] == "airflow-logs", name
    for service in services.values():
        for source in volume_targets(service).values():
            if not source.startswith(("./", "/")):
                assert source in compose["volumes"], f"named volume {source} is not declared"
            else:
                assert (REPO / source).exists(), source


def test_the_recover_example_shares_a_volume_between_airflow_tasks_and_flyte_executions(services):
    for name in ("scheduler", ADMIN):
        shared = env(services[name])["FLYTE_EXAMPLES_SHARED_DIR"]
        assert volume_targets(services[name])[shared] == "examples-shared", name


def test_airflow_services_share_the_settings_the_native_suite_needs(services, native):
    native_env = native["env"]
    required = {k for k in native_env if k.startswith("AIRFLOW__")} - NATIVE_ONLY_SETTINGS
    api_port = flag(command(services["api-server"]), "--port")

    settings = [env(services[name]) for name in ("airflow-init", *AIRFLOW_SERVICES)]
    assert all(s == settings[0] for s in settings), "one environment for every Airflow component"
    ours = settings[0]
    assert sorted(required - set(ours)) == []
    for key in ("EXECUTOR", "LOAD_EXAMPLES", "SIMPLE_AUTH_MANAGER_ALL_ADMINS"):
        assert ours[f"AIRFLOW__CORE__{key}"] == native_env[f"AIRFLOW__CORE__{key}"], key
    assert ours["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert ours["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == f"http://api-server:{api_port}/execution/"
    assert ours["AIRFLOW__API__BASE_URL"] == "http://localhost:8080"
    postgres = env(services["postgres"])
    assert ours["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == (
        f"postgresql+psycopg2://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}@postgres/{postgres['POSTGRES_DB']}"
    )
    assert len(ours["AIRFLOW__API_AUTH__JWT_SECRET"]) >= 64  # HS512 wants a key of 64 bytes or more
    assert "AIRFLOW_CONN_FLYTE_CONN" in native_env


def test_the_flyte_connection_is_one_the_provider_accepts(services):
    from airflow.sdk import Connection

    from airflow_provider_flyte.hooks.flyte import config_from_connection

    conn = Connection.from_json(env(services["scheduler"])["AIRFLOW_CONN_FLYTE_CONN"], conn_id="flyte_conn")
    config = config_from_connection(conn, conn.extra_dejson)

    assert config.endpoint == f"{ADMIN}:30080"
    assert config.insecure and config.auth_mode == "none"
    assert (config.project, config.domain) == ("flytesnacks", "development")


# --- the real-Flyte override ---------------------------------------------------------------------


def test_the_real_flyte_override_leaves_the_local_admin_out_and_takes_the_connection_from_the_environment(services):
    override = load(REAL_FLYTE)["services"]

    assert override[ADMIN] == {"profiles": ["local-flyte"]}
    with_conn = {name for name, s in services.items() if "AIRFLOW_CONN_FLYTE_CONN" in env(s)}
    assert with_conn == {"airflow-init", *AIRFLOW_SERVICES}
    for name in with_conn:
        value = env(override[name])["AIRFLOW_CONN_FLYTE_CONN"]
        assert re.fullmatch(r"\$\{FLYTE_CONN:\?[^}]+\}", value), name  # required: compose refuses to start without
        assert "host.docker.internal:host-gateway" in override[name]["extra_hosts"], name
    for name, service in services.items():
        if ADMIN in service.get("depends_on", {}):
            assert service["depends_on"][ADMIN]["required"] is False, name


# --- docker compose itself, where installed ------------------------------------------------------


def _compose_v2() -> list[str] | None:
    candidates = []
    if docker := shutil.which("docker"):
        candidates.append([docker, "compose"])
    if standalone := shutil.which("docker-compose"):
        candidates.append([standalone])
    for cli in candidates:
        done = subprocess.run([*cli, "version", "--short"], capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip().lstrip("v").startswith("2."):
            return cli
    return None


def test_docker_compose_config_accepts_both_files():
    cli = _compose_v2()
    if cli is None:
        pytest.skip("no Compose v2 CLI here (docker compose / docker-compose); the schema test above still ran")
    ours = ("FLYTE_CONN", "AIRFLOW_IMAGE", "AIRFLOW_UID", "AIRFLOW_JWT_SECRET", "COMPOSE_FILE", "COMPOSE_PROFILES")
    environment = {k: v for k, v in os.environ.items() if k not in ours}

    def config(*files: str, **extra: str) -> subprocess.CompletedProcess:
        args = [a for f in files for a in ("-f", f)]
        return subprocess.run([*cli, *args, "config", "--format", "json"], cwd=REPO, capture_output=True,
                              text=True, check=False, env={**environment, **extra})

    base = config("docker-compose.yaml")
    assert base.returncode == 0, base.stderr
    assert set(json.loads(base.stdout)["services"]) == {"postgres", "airflow-init", ADMIN, *AIRFLOW_SERVICES}
    missing = config("docker-compose.yaml", "docker-compose.real-flyte.yaml")
    assert missing.returncode != 0 and "FLYTE_CONN" in missing.stderr
    real = config("docker-compose.yaml", "docker-compose.real-flyte.yaml", FLYTE_CONN="flyte://flyte.example.com:443")
    assert real.returncode == 0, real.stderr
    merged = json.loads(real.stdout)["services"]
    assert ADMIN not in merged
    assert {merged[n]["environment"]["AIRFLOW_CONN_FLYTE_CONN"] for n in AIRFLOW_SERVICES} == {
        "flyte://flyte.example.com:443"
    }
