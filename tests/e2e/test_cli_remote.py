"""The remote commands' plumbing, as a user's shell sees it: exit codes, one-line errors,
output formats, secrets kept off the command line, and a fast `modelplane --help`.

The commands run as child processes (`python -m modelplane`), except the argument checks
and formats, which run in process (`cli_in_process`). The server is a live `modelplane
serve` on SQLite, or a stub that answers what a test needs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from modelplane.cli.remote import EXIT_CODES
from tests.support.cli import Cli, assert_error, clean_env
from tests.support.server import Server, free_port

ADMIN_TOKEN = "mp_cli_plumbing_token_0123456789abcdef"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("cli-plumbing")
    with Server(cwd=directory, env={"MODELPLANE_BOOTSTRAP_TOKEN": ADMIN_TOKEN}) as live:
        yield live


@pytest.fixture
def cli(server: Server, tmp_path: Path) -> Cli:
    return Cli(url=server.url, token=ADMIN_TOKEN, cwd=tmp_path)


@pytest.fixture
def cli_in_process(server: Server, tmp_path: Path) -> Cli:
    """For what does not depend on the process: argument checks and formatting."""
    return Cli(url=server.url, token=ADMIN_TOKEN, cwd=tmp_path, in_process=True)


class _Stub(BaseHTTPRequestHandler):
    """Answers every request with the class's `status` and `body`."""

    status = 200
    body = b""

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("content-type", "application/json")
        self.send_header("x-request-id", "req-123")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[tuple[str, type[_Stub]]]:
    handler = type("Handler", (_Stub,), {})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_exit_codes_are_documented() -> None:
    assert sorted(EXIT_CODES) == list(range(9))
    docs = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    for code in EXIT_CODES:
        assert f"| {code} |" in docs


def test_help_lists_the_groups_and_loads_no_client(tmp_path: Path) -> None:
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['modelplane', '--help']\n"
        "try:\n"
        "    runpy.run_module('modelplane', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('httpx', 'rich', 'yaml', 'modelplane.client', 'sqlalchemy', 'fastapi')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for group in ("principals", "keys", "llms", "model-groups", "workspaces", "prompts"):
        assert f"  {group} " in result.stdout
    assert "  configs " in result.stdout and "  config " not in result.stdout  # hidden: deprecated
    assert result.stderr.strip() == "[]"


def test_the_three_output_formats(cli_in_process: Cli) -> None:
    cli = cli_in_process
    cli.ok("workspaces", "create", "--id", "fmt-ws", "--name", "Formats")
    as_json = cli.json("workspaces", "get", "fmt-ws")
    assert as_json["workspaceId"] == "fmt-ws" and isinstance(as_json["createdAt"], int)
    assert yaml.safe_load(cli.ok("workspaces", "list", "-o", "yaml")) == [as_json]
    table = cli.ok("workspaces", "list").splitlines()
    assert table[0].split() == ["workspaceId", "name", "ownerId", "createdAt"]
    assert table[1].split()[:2] == ["fmt-ws", "Formats"]


def test_missing_token_is_a_usage_error(cli: Cli) -> None:
    result = cli("llms", "list", env={"MODELPLANE_TOKEN": ""})
    assert_error(result, 2, "no API key", "MODELPLANE_TOKEN")


def test_a_wrong_token_exits_5(cli: Cli) -> None:
    result = cli("llms", "list", "--token", "mp_not_a_key_0123456789abcdef")
    assert_error(result, 5, "error: unauthenticated: ")


def test_an_unreachable_server_exits_7(cli: Cli) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    assert_error(cli("llms", "list", "--url", closed), 7, f"cannot reach {closed}")


@pytest.mark.parametrize(
    ("status", "body", "exit_code", "fragment"),
    [
        (503, b'{"code": "UNAVAILABLE", "message": "store down"}', 7, "unavailable: store down"),
        (500, b'{"code": "INTERNAL", "message": "boom"}', 1, "500 INTERNAL: boom (request"),
        (200, b"<html>not the API</html>", 1, "unexpected JSONDecodeError"),
    ],
)
def test_other_answers_map_to_their_exit_codes(
    stub: tuple[str, type[_Stub]],
    tmp_path: Path,
    status: int,
    body: bytes,
    exit_code: int,
    fragment: str,
) -> None:
    url, handler = stub
    handler.status, handler.body = status, body
    result = Cli(url=url, token=ADMIN_TOKEN, cwd=tmp_path)("principals", "list")
    assert_error(result, exit_code, fragment)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["llms", "list", "--label", "team"], "--label takes KEY=VALUE"),
        (["llms", "create", "--api-key-env", "A", "--api-key-stdin"], "give one of"),
        (["llms", "create", "--display-name", "x", "--api-key-from-env", "UNSET_X"], "UNSET_X"),
        (["prompts", "render", "-w", "ws", "id", "--vars-file", "nope.yaml"], "cannot read"),
        (["configs", "set", "c", "s", "k"], "give VALUE or --value-file"),
    ],
)
def test_bad_input_exits_2_before_any_request(
    cli_in_process: Cli, args: list[str], fragment: str
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    assert_error(cli_in_process(*args, "--url", closed), 2, fragment)


def test_a_malformed_body_file_names_the_file(cli: Cli) -> None:
    (cli.cwd / "body.yaml").write_text("displayName: [unclosed\n")
    result = cli("llms", "create", "-f", "body.yaml")
    assert_error(result, 2, "body.yaml: not valid JSON or YAML")


def test_a_secret_from_the_environment_is_stored_and_never_printed(cli: Cli) -> None:
    secret = "sk-plumbing-" + "x9" * 12
    for output in ("table", "json", "yaml"):
        result = cli(
            "llms", "create", "--display-name", f"Secret {output}", "--model-identifier",
            f"model-{output}", "--provider-type", "OPENAI", "--endpoint-url",
            "https://llm.example.com/v1", "--api-key-from-env", "THE_KEY", "-o", output,
            env={"THE_KEY": secret},
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert secret not in result.stdout + result.stderr
        assert "hasCredentials" in result.stdout and "true" in result.stdout
    listed = cli("llms", "list", "-o", "json", env={"THE_KEY": secret})
    assert secret not in listed.stdout
    assert all(llm["hasCredentials"] for llm in json.loads(listed.stdout))
