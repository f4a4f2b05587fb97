"""A read-only console: HTML pages at the URLs the provider's console links point at.

The provider links an execution to `{scheme}://{endpoint}/console/projects/{p}/domains/{d}/executions/{name}`
(`hooks/connection.py`), on the gRPC endpoint's host and port; `front.py` hands this module the
HTTP/1.1 connections that arrive there. Pages:

- `/console` (and `/`, redirected): every execution, newest first (`?limit=N`, default 500);
- `/console/projects/{p}/domains/{d}/executions/{name}`: phase, created/started/updated,
  duration, launch plan, who launched it, inputs, outputs, the whole error, the abort cause
  and principal, node executions with their phases and errors, labels and annotations.
  A page of an execution that has not ended refreshes itself every few seconds (a meta tag,
  no JavaScript);
- anything else, and unknown executions: 404. Only GET and HEAD are served.

Every value is HTML-escaped (error messages and inputs are user text); pages forbid scripts
with a Content-Security-Policy header as well.
"""

from __future__ import annotations

import datetime
import html
import json
import logging
import socket
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from flyteidl.admin import execution_pb2, node_execution_pb2
from flyteidl.core import execution_pb2 as core_execution_pb2
from flyteidl.core import identifier_pb2, literals_pb2
from google.protobuf import json_format, text_format
from google.protobuf.timestamp_pb2 import Timestamp

from airflow_provider_flyte.local_admin.errors import AdminError
from airflow_provider_flyte.local_admin.executions import PHASES, TERMINAL_PHASES, ExecutionStore
from airflow_provider_flyte.local_admin.nodes import NODE_PHASES, read_node_executions
from airflow_provider_flyte.local_admin.runner import OUTPUTS_FILE
from airflow_provider_flyte.local_admin.worker import INPUTS_FILE

CONSOLE_PATH = "/console"
INDEX_LIMIT = 500
REFRESH_SECONDS = 3
_VALUE_CHARS = 20_000  # one input or output value is cut after this many characters
_SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_log = logging.getLogger(__name__)
WorkDir = Callable[[identifier_pb2.WorkflowExecutionIdentifier], Path]


def execution_path(project: str, domain: str, name: str) -> str:
    """The path of an execution's page, as the provider's `execution_url` builds it."""
    parts = (urllib.parse.quote(part, safe="") for part in (project, domain, name))
    return "{}/projects/{}/domains/{}/executions/{}".format(CONSOLE_PATH, *parts)


class Page:
    def __init__(self, status: int, body: str = "", headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


class Console:
    """Renders pages from the admin's execution store and run directories."""

    def __init__(self, store: ExecutionStore, work_dir: WorkDir) -> None:
        self._store = store
        self._work_dir = work_dir

    def page(self, target: str) -> Page:
        """The page for a request target (path and query)."""
        parsed = urllib.parse.urlsplit(target)
        parts = [urllib.parse.unquote(part, errors="replace") for part in parsed.path.split("/") if part]
        if not parts:
            return Page(HTTPStatus.FOUND, headers={"Location": CONSOLE_PATH})
        if parts == ["console"]:
            return self._index(urllib.parse.parse_qs(parsed.query))
        if len(parts) == 7 and parts[0] == "console" and parts[1::2] == ["projects", "domains", "executions"]:
            return self._execution(parts[2], parts[4], parts[6])
        return _not_found(f"Nothing here: {parsed.path}")

    def serve(self, connection: socket.socket, address: tuple) -> None:
        """Answers HTTP/1.1 requests on an accepted connection until the client closes it."""
        _Handler(connection, address, self)

    def _index(self, query: Mapping[str, list[str]]) -> Page:
        try:
            limit = max(1, int(query.get("limit", [INDEX_LIMIT])[0]))
        except ValueError:
            limit = INDEX_LIMIT
        executions = sorted(self._store.all(), key=lambda e: _nanos(e.closure.created_at), reverse=True)
        rows = [
            _row(
                _link(execution_path(e.id.project, e.id.domain, e.id.name), e.id.name),
                _phase(e.closure.phase),
                _escape(_launched_entity(e)),
                _escape(f"{e.id.project}/{e.id.domain}"),
                _escape(_time(e.closure.created_at)),
                _escape(_duration(e.closure)),
            )
            for e in executions[:limit]
        ]
        shown = f"newest {limit} of {len(executions)}" if len(executions) > limit else f"{len(executions)}"
        body = [
            f"<h1>Executions <small>({_escape(shown)}, newest first)</small></h1>",
            _table(["name", "phase", "launch plan / task", "project/domain", "created", "duration"], rows)
            if rows
            else "<p>No executions yet.</p>",
        ]
        return Page(HTTPStatus.OK, _document("Executions · flyte-local-admin", body))

    def _execution(self, project: str, domain: str, name: str) -> Page:
        identifier = identifier_pb2.WorkflowExecutionIdentifier(project=project, domain=domain, name=name)
        try:
            execution = self._store.get(identifier)
        except AdminError:
            return _not_found(f"No execution {project}/{domain}/{name} in this admin.")
        closure, spec = execution.closure, execution.spec
        work_dir = self._work_dir(identifier)
        facts = [
            ("Phase", _phase(closure.phase)),
            ("Project / domain", _escape(f"{project} / {domain}")),
            ("Launch plan", _escape(_identifier(spec.launch_plan))),
            ("Workflow", _escape(_identifier(closure.workflow_id))),
            ("Created", _escape(_time(closure.created_at))),
            ("Started", _escape(_time(closure.started_at))),
            ("Updated", _escape(_time(closure.updated_at))),
            ("Duration", _escape(_duration(closure))),
            ("Launched by", _escape(spec.metadata.principal or "(anonymous)")),
        ]
        if spec.metadata.mode != execution_pb2.ExecutionMetadata.MANUAL:
            mode = execution_pb2.ExecutionMetadata.ExecutionMode.Name(spec.metadata.mode)
            reference = spec.metadata.reference_execution
            origin = ""
            if reference.name:
                path = execution_path(reference.project, reference.domain, reference.name)
                origin = " from " + _link(path, reference.name)
            facts.append(("Mode", _escape(mode) + origin))
        body = [
            f"<h1>Execution {_escape(name)}</h1>",
            f"<p>{_link(CONSOLE_PATH, 'all executions')}</p>",
            _facts(facts),
        ]
        if closure.HasField("error"):
            body += _error_section(closure.error)
        if closure.HasField("abort_metadata"):
            abort = closure.abort_metadata
            body += [
                "<h2>Abort</h2>",
                _facts(
                    [
                        ("Cause", _pre(abort.cause or "(none given)")),
                        ("Principal", _escape(abort.principal or "(anonymous)")),
                    ]
                ),
            ]
        body += ["<h2>Inputs</h2>", _literal_table(_literal_map(work_dir / INPUTS_FILE) or closure.computed_inputs)]
        outputs = _literal_map(work_dir / OUTPUTS_FILE)
        if outputs is not None:
            body += ["<h2>Outputs</h2>", _literal_table(outputs)]
        elif closure.phase == PHASES.SUCCEEDED:
            body += ["<h2>Outputs</h2>", "<p>None.</p>"]
        body += ["<h2>Node executions</h2>", _nodes_table(read_node_executions(work_dir, identifier))]
        for title, values in (("Labels", spec.labels.values), ("Annotations", spec.annotations.values)):
            if values:
                body += [f"<h2>{title}</h2>", _facts([(key, _value_or_link(values[key])) for key in sorted(values)])]
        refresh = closure.phase not in TERMINAL_PHASES
        title = f"{name} {PHASES.Phase.Name(closure.phase)} · flyte-local-admin"
        return Page(HTTPStatus.OK, _document(title, body, refresh=refresh))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "flyte-local-admin"
    sys_version = ""
    timeout = 60  # an idle keep-alive connection is closed after this

    def __init__(self, connection: socket.socket, address: tuple, console: Console) -> None:
        self.console = console
        super().__init__(connection, address, console)  # type: ignore[arg-type]

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        page = self.console.page(self.path)
        payload = page.body.encode()
        self.send_response(page.status)
        headers = {"Content-Type": "text/html; charset=utf-8", **_SECURITY_HEADERS, **page.headers}
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if send_body:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        return None


def _not_found(message: str) -> Page:
    body = [f"<h1>Not found</h1><p>{_escape(message)}</p>", f"<p>{_link(CONSOLE_PATH, 'All executions')}</p>"]
    return Page(HTTPStatus.NOT_FOUND, _document("Not found · flyte-local-admin", body))


def _escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def _link(href: str, text: str) -> str:
    return f'<a href="{_escape(href)}">{_escape(text)}</a>'


def _pre(text: str) -> str:
    return f"<pre>{_escape(text)}</pre>"


def _phase(phase: int, names: Any = PHASES.Phase) -> str:
    name = names.Name(phase) if phase in names.values() else str(phase)
    return f'<span class="phase {_escape(name.lower())}">{_escape(name)}</span>'


def _row(*cells: str) -> list[str]:
    return list(cells)


def _table(headings: Iterable[str], rows: Iterable[list[str]]) -> str:
    head = "".join(f"<th>{_escape(heading)}</th>" for heading in headings)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _facts(facts: Iterable[tuple[str, str]]) -> str:
    """A two-column table; the values are HTML already (escaped by the caller)."""
    rows = "".join(f"<tr><th>{_escape(key)}</th><td>{value}</td></tr>" for key, value in facts)
    return f'<table class="facts">{rows}</table>'


def _value_or_link(value: str) -> str:
    if value.startswith(("http://", "https://")):
        return _link(value, value)
    return _escape(value)


def _error_section(error: core_execution_pb2.ExecutionError) -> list[str]:
    kind = core_execution_pb2.ExecutionError.ErrorKind.Name(error.kind)
    facts = [("Code", _escape(error.code or "(none)")), ("Kind", _escape(kind))]
    if error.error_uri:
        facts.append(("Error document", _escape(error.error_uri)))
    return ["<h2>Error</h2>", _facts(facts), _pre(error.message)]


def _nodes_table(nodes: list[node_execution_pb2.NodeExecution]) -> str:
    if not nodes:
        return "<p>None recorded (a node appears once it starts).</p>"
    rows = []
    for node in nodes:
        closure = node.closure
        error = _pre(f"{closure.error.code}: {closure.error.message}") if closure.HasField("error") else ""
        rows.append(
            _row(
                _escape(node.id.node_id),
                _phase(closure.phase, NODE_PHASES.Phase),
                _escape(_time(closure.started_at)),
                _escape(_duration(closure)),
                error,
            )
        )
    return _table(["node", "phase", "started", "duration", "error"], rows)


def _literal_map(path: Path) -> literals_pb2.LiteralMap | None:
    try:
        return literals_pb2.LiteralMap.FromString(path.read_bytes())
    except (OSError, ValueError):
        return None


def _literal_table(literals: literals_pb2.LiteralMap) -> str:
    if not literals.literals:
        return "<p>None.</p>"
    rows = [_row(_escape(key), _pre(_cut(literal_text(literals.literals[key])))) for key in sorted(literals.literals)]
    return _table(["name", "value"], rows)


def _cut(text: str) -> str:
    if len(text) <= _VALUE_CHARS:
        return text
    return f"{text[:_VALUE_CHARS]}… ({len(text) - _VALUE_CHARS} more characters)"


def literal_text(literal: literals_pb2.Literal) -> str:
    """A Flyte literal as readable text: JSON for values, URIs for files and datasets."""
    return json.dumps(_literal_value(literal), ensure_ascii=False, default=str)


def _literal_value(literal: literals_pb2.Literal) -> Any:
    kind = literal.WhichOneof("value")
    if kind == "collection":
        return [_literal_value(item) for item in literal.collection.literals]
    if kind == "map":
        return {key: _literal_value(value) for key, value in literal.map.literals.items()}
    if kind == "offloaded_metadata":
        return literal.offloaded_metadata.uri
    if kind == "scalar":
        return _scalar_value(literal.scalar)
    return text_format.MessageToString(literal, as_one_line=True)


def _scalar_value(scalar: literals_pb2.Scalar) -> Any:
    kind = scalar.WhichOneof("value")
    if kind == "primitive":
        primitive = scalar.primitive
        which = primitive.WhichOneof("value")
        if which == "datetime":
            return _time(primitive.datetime)
        if which == "duration":
            return f"{primitive.duration.ToTimedelta().total_seconds()} s"
        return getattr(primitive, which) if which else None
    if kind == "none_type":
        return None
    if kind == "union":
        return _literal_value(scalar.union.value)
    if kind == "blob":
        return scalar.blob.uri
    if kind == "structured_dataset":
        return scalar.structured_dataset.uri
    if kind == "generic":
        return json_format.MessageToDict(scalar.generic)
    if kind == "binary":
        return _binary_value(scalar.binary)
    if kind == "error":
        return f"error: {scalar.error.message}"
    return text_format.MessageToString(scalar, as_one_line=True)


def _binary_value(binary: literals_pb2.Binary) -> Any:
    """flytekit's msgpack-encoded dataclasses and models, decoded when msgpack is importable."""
    if binary.tag == "msgpack":
        try:
            import msgpack

            return msgpack.unpackb(binary.value, strict_map_key=False)
        except Exception:  # noqa: BLE001 - fall back to describing the bytes
            _log.debug("could not decode a msgpack literal", exc_info=True)
    return f"({len(binary.value)} bytes, {binary.tag or 'untagged'})"


def _identifier(identifier: identifier_pb2.Identifier) -> str:
    if not identifier.name:
        return "–"
    return f"{identifier.name} @ {identifier.version}" if identifier.version else identifier.name


def _launched_entity(execution: execution_pb2.Execution) -> str:
    return execution.spec.launch_plan.name or execution.closure.workflow_id.name or "–"


def _nanos(stamp: Timestamp) -> int:
    return stamp.ToNanoseconds()


def _time(stamp: Timestamp) -> str:
    if not stamp.seconds and not stamp.nanos:
        return "–"
    moment = datetime.datetime.fromtimestamp(stamp.seconds + stamp.nanos / 1e9, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d} UTC"


def _duration(closure: Any) -> str:
    """The closure's duration once it ended; the time so far while it runs; "–" before it started."""
    if closure.phase in TERMINAL_PHASES or closure.HasField("duration") and closure.duration.ToNanoseconds():
        return _seconds(closure.duration.ToNanoseconds() / 1e9)
    if closure.HasField("started_at") and _nanos(closure.started_at):
        now = datetime.datetime.now(datetime.timezone.utc).timestamp()
        return _seconds(max(0.0, now - _nanos(closure.started_at) / 1e9)) + " so far"
    return "–"


def _seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min {rest} s" if hours else f"{minutes} min {rest} s"


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem 2rem;color:#1b1b1f}
h1 small{font-weight:normal;color:#666;font-size:.6em}
table{border-collapse:collapse;margin:.5rem 0 1rem}
th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
table.facts th{background:#f6f6f8;white-space:nowrap}
pre{margin:0;white-space:pre-wrap;word-break:break-word;max-width:110ch}
.phase{font-weight:600}
.succeeded,.recovered{color:#11733c}.failed,.timed_out,.failing{color:#b3261e}
.aborted,.aborting,.skipped{color:#8a5300}.running,.queued,.succeeding,.undefined{color:#1a55b0}
"""


def _document(title: str, body: list[str], refresh: bool = False) -> str:
    meta = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">' if refresh else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_escape(title)}</title>{meta}<style>{_STYLE}</style></head>"
        f"<body>{''.join(body)}"
        "<footer><p><small>flyte-local-admin console (read-only)</small></p></footer></body></html>"
    )
