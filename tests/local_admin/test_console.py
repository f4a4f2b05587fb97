"""The read-only console, over real HTTP on the admin's gRPC port, at the URLs the provider links to."""

from __future__ import annotations

import http.client
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import grpc
import pytest
from flyteidl.admin import execution_pb2, node_execution_pb2, version_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.service.admin_pb2_grpc import AdminServiceStub

from airflow_provider_flyte.hooks.connection import FlyteConnectionConfig
from airflow_provider_flyte.local_admin import ClientSecretAuth, LocalFlyteAdmin
from airflow_provider_flyte.local_admin.front import client_hello_alpn
from tests.local_admin.conftest import DOMAIN, PROJECT, SIMPLE, create_request, execution_id, literal

PHASES = core_execution_pb2.WorkflowExecution
INJECTION = "<script>alert('x')</script> & \"quoted\" <b>bold</b>"


def provider_url(admin: LocalFlyteAdmin, name: str) -> str:
    """The console link exactly as the provider builds it from the admin's printed connection."""
    connection = admin.airflow_connection()
    config = FlyteConnectionConfig.from_parts(
        "console_test",
        host=connection["host"],
        port=connection["port"],
        login=connection.get("login"),
        password=connection.get("password"),
        extra=connection["extra"],
    )
    return config.execution_url(PROJECT, DOMAIN, name)


def fetch(url: str, context: ssl.SSLContext | None = None) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=10, context=context) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def text_of(page: str) -> str:
    """The page's visible text, tags removed and entities decoded, for assertions on content."""
    import html

    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def run(stub: AdminServiceStub, launch_plan: str, phases: set[int], admin: LocalFlyteAdmin, **inputs) -> str:
    request = create_request(launch_plan, {key: literal(value) for key, value in inputs.items()})
    stub.CreateExecution(request, timeout=10)
    admin.wait_for_phase(request.name, phases, timeout=60)
    return request.name


def wait_for_a_node(stub: AdminServiceStub, name: str) -> node_execution_pb2.NodeExecutionListRequest:
    """Waits until the execution's first node has started (a node is recorded once it starts)."""
    listing = node_execution_pb2.NodeExecutionListRequest(workflow_execution_id=execution_id(name), limit=10)
    deadline = time.monotonic() + 30
    while not stub.ListNodeExecutions(listing, timeout=10).node_executions:
        assert time.monotonic() < deadline, "no node started"
        time.sleep(0.05)
    return listing


def test_the_providers_link_to_a_failed_execution_shows_the_phase_and_the_whole_error(admin, stub):
    message = INJECTION + " " + "x" * 300 + " the cause at the end"
    name = run(stub, "simple.failing_wf", {PHASES.FAILED}, admin, message=message)
    url = provider_url(admin, name)
    assert url == f"http://{admin.endpoint}/console/projects/{PROJECT}/domains/{DOMAIN}/executions/{name}"

    status, page, headers = fetch(url)

    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    visible = text_of(page)
    assert "FAILED" in visible and name in visible
    assert "the cause at the end" in visible  # the whole message, not ListExecutions' first 100 bytes
    assert "USER" in visible  # the error kind
    assert INJECTION in visible  # shown as text ...
    assert "<script>" not in page and "<b>bold" not in page  # ... never as markup
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quoted&quot;" in page
    assert (
        "script-src" not in headers["Content-Security-Policy"]
        and "default-src 'none'" in headers["Content-Security-Policy"]
    )


def test_a_succeeded_execution_shows_inputs_outputs_timings_and_node_executions(admin, stub):
    name = run(stub, "simple.double_wf", {PHASES.SUCCEEDED}, admin, x=21)

    status, page, _ = fetch(admin.execution_url(name))

    assert status == 200
    visible = " ".join(text_of(page).split())
    assert "Phase SUCCEEDED" in visible
    assert re.search(r"Created \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC", visible)
    assert re.search(r"Started \d{4}-\d\d-\d\d", visible) and re.search(r"Duration \d+\.\d\d s", visible)
    assert "Inputs name value x 21" in visible and "Outputs name value o0 42" in visible
    assert re.search(r"Node executions node phase started duration error n0 SUCCEEDED", visible)
    assert 'http-equiv="refresh"' not in page  # it has ended: nothing to refresh


def test_an_unknown_execution_and_an_unknown_path_are_404(admin):
    status, page, _ = fetch(admin.execution_url("nobody-ran-this"))
    assert status == 404 and "No execution flytesnacks/development/nobody-ran-this" in text_of(page)

    status, page, _ = fetch(f"http://{admin.endpoint}/console/projects/{PROJECT}/nowhere")
    assert status == 404

    status, page, _ = fetch(f"http://{admin.endpoint}/console/projects/%3Cb%3E/domains/d/executions/%3Cscript%3E")
    assert status == 404 and "<script>" not in page and "&lt;script&gt;" in page


def test_the_index_lists_executions_newest_first_and_the_root_leads_there(admin, stub):
    first = run(stub, "simple.double_wf", {PHASES.SUCCEEDED}, admin, x=1)
    second = run(stub, "simple.double_wf", {PHASES.SUCCEEDED}, admin, x=2)

    status, page, _ = fetch(admin.console_url)
    root_status, root_page, _ = fetch(f"http://{admin.endpoint}/")  # urllib follows the redirect

    assert status == 200 and admin.console_url == f"http://{admin.endpoint}/console"
    assert page.index(second) < page.index(first)
    assert f'href="/console/projects/{PROJECT}/domains/{DOMAIN}/executions/{second}"' in page
    assert root_status == 200 and second in root_page
    limited = fetch(admin.console_url + "?limit=1")[1]
    assert second in limited and first not in limited and "newest 1 of" in limited


def test_a_running_execution_refreshes_itself_and_its_abort_shows_cause_and_principal(admin, stub):
    request = create_request("simple.sleepy_wf", {"seconds": literal(60.0)})
    stub.CreateExecution(request, timeout=10)
    admin.wait_for_phase(request.name, {PHASES.RUNNING}, timeout=60)
    wait_for_a_node(stub, request.name)

    running = fetch(admin.execution_url(request.name))[1]
    cause = "Stopped by <Airflow>: dag d, task t"
    stub.TerminateExecution(
        execution_pb2.ExecutionTerminateRequest(id=execution_id(request.name), cause=cause), timeout=10
    )
    admin.wait_for_phase(request.name, {PHASES.ABORTED}, timeout=30)
    aborted = fetch(admin.execution_url(request.name))[1]

    assert 'http-equiv="refresh"' in running and "RUNNING" in running and "so far" in running
    visible = " ".join(text_of(aborted).split())
    assert "Phase ABORTED" in visible and f"Abort Cause {cause} Principal (anonymous)" in visible
    assert "Stopped by &lt;Airflow&gt;" in aborted and 'http-equiv="refresh"' not in aborted
    assert re.search(r"Node executions node phase started duration error n0 ABORTED", visible)  # not RUNNING


def test_the_nodes_of_an_aborted_execution_end_aborted(admin, stub):
    """A killed worker cannot record its nodes' end: the admin ends them, as flytepropeller does."""
    request = create_request("simple.sleepy_wf", {"seconds": literal(60.0)})
    stub.CreateExecution(request, timeout=10)
    admin.wait_for_phase(request.name, {PHASES.RUNNING}, timeout=60)
    listing = wait_for_a_node(stub, request.name)

    stub.TerminateExecution(
        execution_pb2.ExecutionTerminateRequest(id=execution_id(request.name), cause="c"), timeout=10
    )
    admin.wait_for_phase(request.name, {PHASES.ABORTED}, timeout=30)

    (node,) = stub.ListNodeExecutions(listing, timeout=10).node_executions
    assert node.closure.phase == core_execution_pb2.NodeExecution.ABORTED
    assert node.closure.duration.ToNanoseconds() > 0


def test_the_console_answers_get_and_head_only(admin):
    connection = http.client.HTTPConnection(*admin.endpoint.rsplit(":", 1), timeout=10)
    try:
        connection.request("HEAD", "/console")
        head = connection.getresponse()
        assert head.status == 200 and head.read() == b"" and int(head.headers["Content-Length"]) > 0
        connection.request("POST", "/console", body=b"x")  # the same keep-alive connection
        post = connection.getresponse()
        post.read()
        assert post.status == 501
    finally:
        connection.close()


def test_grpc_and_the_console_share_the_port_and_an_outage_closes_both(admin, stub):
    assert stub.GetVersion(version_pb2.GetVersionRequest(), timeout=10).control_plane_version.Version
    assert fetch(admin.console_url)[0] == 200
    admin.faults.outage(60)
    try:
        with pytest.raises(urllib.error.URLError) as refused:
            urllib.request.urlopen(admin.console_url, timeout=5)
        assert isinstance(refused.value.reason, ConnectionRefusedError)
    finally:
        admin.faults.clear()
    assert fetch(admin.console_url)[0] == 200
    get = stub.GetVersion(version_pb2.GetVersionRequest(), timeout=10, wait_for_ready=True)
    assert get.control_plane_version.Version


def test_without_the_console_grpc_owns_the_port():
    with LocalFlyteAdmin(workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=0, console=False) as admin:
        assert admin.console_url is None
        with grpc.insecure_channel(admin.endpoint) as channel:
            assert AdminServiceStub(channel).GetVersion(version_pb2.GetVersionRequest(), timeout=10)
        with pytest.raises((http.client.HTTPException, OSError)):
            fetch(f"http://{admin.endpoint}/console")


CLIENT_ID, CLIENT_SECRET = "console-client", "console-secret"


@pytest.fixture(scope="module")
def secured_tls() -> Iterator[LocalFlyteAdmin]:
    auth = ClientSecretAuth(CLIENT_ID, CLIENT_SECRET)
    with LocalFlyteAdmin(
        workflows=[SIMPLE], project=PROJECT, domain=DOMAIN, port=0, auth=auth, tls=True, parallelism=1
    ) as admin:
        yield admin


def _bearer(admin: LocalFlyteAdmin) -> list[tuple[str, str]]:
    import base64
    import json

    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    request = urllib.request.Request(
        admin.token_endpoint,
        data=b"grant_type=client_credentials&scope=all",
        headers={"Authorization": f"Basic {basic}"},
    )
    context = ssl.create_default_context(cafile=admin.ca_cert_path)
    with urllib.request.urlopen(request, timeout=10, context=context) as response:
        return [("flyte-authorization", "Bearer " + json.loads(response.read())["access_token"])]


def test_with_tls_the_console_is_https_on_the_grpc_port_and_names_the_principal(secured_tls):
    admin = secured_tls
    with open(admin.ca_cert_path, "rb") as pem:
        credentials = grpc.ssl_channel_credentials(root_certificates=pem.read())
    metadata = _bearer(admin)
    with grpc.secure_channel(admin.endpoint, credentials) as channel:
        stub = AdminServiceStub(channel)
        request = create_request("simple.sleepy_wf", {"seconds": literal(60.0)})
        stub.CreateExecution(request, metadata=metadata, timeout=10)
        admin.wait_for_phase(request.name, {PHASES.RUNNING}, timeout=60)
        stub.TerminateExecution(
            execution_pb2.ExecutionTerminateRequest(id=execution_id(request.name), cause="enough"),
            metadata=metadata,
            timeout=10,
        )
        admin.wait_for_phase(request.name, {PHASES.ABORTED}, timeout=30)

    url = provider_url(admin, request.name)
    status, page, _ = fetch(url, ssl.create_default_context(cafile=admin.ca_cert_path))

    assert url.startswith(f"https://{admin.endpoint}/console/")
    visible = " ".join(text_of(page).split())
    assert status == 200 and "Phase ABORTED" in visible
    assert f"Launched by {CLIENT_ID}" in visible and f"Cause enough Principal {CLIENT_ID}" in visible


def test_with_tls_a_client_offering_no_alpn_gets_the_console_too(secured_tls):
    context = ssl.create_default_context(cafile=secured_tls.ca_cert_path)  # no ALPN: not a gRPC client
    host, port = secured_tls.endpoint.rsplit(":", 1)
    with (
        socket.create_connection((host, int(port)), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        tls.sendall(b"GET /console HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 ")


def _mismatch_error(admin_tls: bool, client_tls: bool, console: bool) -> tuple[grpc.StatusCode, str]:
    with LocalFlyteAdmin(port=0, tls=admin_tls, console=console) as admin:
        credentials = grpc.ssl_channel_credentials()  # system roots: never this admin's CA
        channel = (
            grpc.secure_channel(admin.endpoint, credentials) if client_tls else grpc.insecure_channel(admin.endpoint)
        )
        with channel, pytest.raises(grpc.RpcError) as raised:
            AdminServiceStub(channel).GetVersion(version_pb2.GetVersionRequest(), timeout=5)
        return raised.value.code(), raised.value.details().replace(str(admin.port), "PORT")


@pytest.mark.parametrize(
    ("admin_tls", "client_tls"),
    [(False, True), (True, False), (True, True)],
    ids=["tls_at_plain", "plain_at_tls", "untrusted"],
)
def test_grpc_clients_with_the_wrong_transport_fail_exactly_as_without_the_console(admin_tls, client_tls):
    """What a misconfigured client sees (and the provider words for its user) does not change."""
    started = time.monotonic()
    with_console = _mismatch_error(admin_tls, client_tls, console=True)
    without = _mismatch_error(admin_tls, client_tls, console=False)
    assert with_console == without and with_console[0] == grpc.StatusCode.UNAVAILABLE
    assert time.monotonic() - started < 20


def test_client_hello_alpn_is_read_from_a_real_client_hello():
    hello = _client_hello(["h2", "http/1.1"])
    assert client_hello_alpn(hello) == [b"h2", b"http/1.1"]
    assert client_hello_alpn(_client_hello(None)) == []
    assert client_hello_alpn(hello[:40]) is None  # cut short: unreadable, left to gRPC


def _client_hello(protocols: list[str] | None) -> bytes:
    """The ClientHello handshake message Python's own TLS client sends, minus the record header."""
    context = ssl.create_default_context()
    if protocols:
        context.set_alpn_protocols(protocols)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        client.do_handshake()
    record = outgoing.read()
    return record[5 : 5 + int.from_bytes(record[3:5], "big")]


def test_labels_and_annotations_are_shown_and_only_http_urls_become_links(admin, stub):
    from flyteidl.admin import common_pb2

    task_instance = "http://localhost:8080/dags/d/runs/manual__1/tasks/t?try_number=1"
    request = create_request(
        "simple.double_wf",
        {"x": literal(1)},
        labels=common_pb2.Labels(values={"airflow-dag-id": "d"}),
        annotations=common_pb2.Annotations(
            values={"airflow-task-instance-url": task_instance, "note": "javascript:alert(1)", "html": "<i>x</i>"}
        ),
    )
    stub.CreateExecution(request, timeout=10)
    admin.wait_for_phase(request.name, {PHASES.SUCCEEDED}, timeout=60)

    page = fetch(admin.execution_url(request.name))[1]

    assert '<a href="http://localhost:8080/dags/d/runs/manual__1/tasks/t?try_number=1">' in page
    assert "javascript:alert(1)" in page and 'href="javascript' not in page
    assert "&lt;i&gt;x&lt;/i&gt;" in page and "<i>" not in page
    assert "airflow-dag-id" in text_of(page)
