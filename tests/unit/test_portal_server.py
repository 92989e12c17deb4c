"""The portal's local server: its own files with the CSP, ``/api/…`` forwarded, nothing else."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tools.portal import CONTENT_SECURITY_POLICY, PortalServer


class _FakeApi(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "host": self.headers["Host"]}).encode()
        self.send_response(418)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>x</title>", encoding="utf-8")
    (dist / "assets" / "app-1.js").write_text("export {}", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("not for the web", encoding="utf-8")
    api = ThreadingHTTPServer(("127.0.0.1", 0), _FakeApi)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    portal = PortalServer(0, dist, f"http://127.0.0.1:{api.server_address[1]}")
    portal.start()
    yield portal.url, dist
    portal.stop()
    api.shutdown()
    api.server_close()


def test_index_and_assets_carry_the_csp_and_their_caching(served: tuple[str, Path]) -> None:
    url, _ = served
    index = requests.get(url + "/", timeout=5)
    assert index.status_code == 200
    assert index.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert index.headers["Cache-Control"] == "no-cache"
    asset = requests.get(url + "/assets/app-1.js", timeout=5)
    assert asset.headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in asset.headers["Cache-Control"]


def test_api_paths_are_forwarded_with_their_query(served: tuple[str, Path]) -> None:
    url, _ = served
    answer = requests.get(url + "/api/services?q=%E8%AF%81", timeout=5)
    assert answer.status_code == 418
    assert answer.json()["path"] == "/services?q=%E8%AF%81"


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt", "/nothing.js"])
def test_nothing_outside_the_built_files(served: tuple[str, Path], path: str) -> None:
    url, _ = served
    assert requests.get(url + path, timeout=5).status_code == 404


def test_a_lost_api_answers_the_contract_error(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("x", encoding="utf-8")
    with ThreadingHTTPServer(("127.0.0.1", 0), _FakeApi) as gone:
        port = gone.server_address[1]
    portal = PortalServer(0, tmp_path, f"http://127.0.0.1:{port}")
    portal.start()
    try:
        answer = requests.get(portal.url + "/api/health", timeout=5)
    finally:
        portal.stop()
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "API_UNREACHABLE"
