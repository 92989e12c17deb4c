"""Build the citizens' portal (``portal/``) and serve it on loopback next to the API.

The portal calls the API under ``/api`` on its own origin. In the cloud the stage's front
(CloudFront) serves the portal bucket and routes ``/api/*`` to API Gateway; locally this
server does the same: it serves ``portal/dist`` and forwards ``/api/...`` to the local API.
Being one origin, the browser needs no CORS and the CSP can say ``connect-src 'self'``.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import mimetypes
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PORTAL = ROOT / "portal"
DIST = PORTAL / "dist"
log = logging.getLogger("onestop.portal")

# The same policy the deployed front sends: nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# What the portal's build reads: a change to any of these means the built files are stale.
BUILD_INPUTS = ("package-lock.json", "index.html", "vite.config.ts", "tsconfig.json", "src")
API_UNREACHABLE = json.dumps({"error": {
    "code": "API_UNREACHABLE", "message": "无法连接到接口，请稍后再试",
    "message_en": "the API cannot be reached"}}, ensure_ascii=False).encode()
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-authorization", "proxy-authenticate", "host"}


class PortalBuildError(RuntimeError):
    """The portal could not be built (Node.js missing, npm ci or the build failed)."""


def _digest(paths: list[Path]) -> str:
    sha = hashlib.sha256()
    for path in sorted(paths):
        sha.update(str(path.relative_to(PORTAL)).encode())
        sha.update(path.read_bytes())
    return sha.hexdigest()[:16]


def _inputs() -> list[Path]:
    found: list[Path] = []
    for name in BUILD_INPUTS:
        path = PORTAL / name
        found += [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    return found


def _npm(*args: str) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise PortalBuildError("npm not found: the portal needs Node.js >= 20 with npm")
    done = subprocess.run([npm, *args], cwd=PORTAL, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PortalBuildError(f"npm {' '.join(args)} failed:\n{done.stdout[-3000:]}"
                               f"{done.stderr[-3000:]}")


def ensure_dependencies() -> None:
    """``npm ci`` when ``node_modules`` is missing or was installed from another lock file."""
    lock = (PORTAL / "package-lock.json").read_bytes()
    stamp = PORTAL / "node_modules" / f".onestop-lock-{hashlib.sha256(lock).hexdigest()[:16]}"
    if stamp.exists():
        return
    log.info("installing the portal's packages (npm ci)")
    _npm("ci", "--no-audit", "--no-fund")
    stamp.touch()


def build() -> Path:
    """Build ``portal/dist`` unless it was already built from the same sources."""
    ensure_dependencies()
    stamp = DIST / ".onestop-build"
    digest = _digest(_inputs())
    if stamp.exists() and stamp.read_text().strip() == digest:
        return DIST
    log.info("building the portal (npm run build)")
    _npm("run", "build")
    stamp.write_text(digest + "\n")
    return DIST


class _Handler(BaseHTTPRequestHandler):
    server: PortalServer

    def log_message(self, format: str, *args: object) -> None:
        log.debug("portal %s", format % args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        if path == "/api" or path.startswith("/api/"):
            self._proxy()
        elif self.command in ("GET", "HEAD"):
            self._static(path)
        else:
            self._send(405, b"method not allowed", "text/plain; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str,
              extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**SECURITY_HEADERS, **(extra or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _static(self, path: str) -> None:
        root = self.server.root.resolve()
        target = (root / path.lstrip("/")).resolve()
        if path.endswith("/"):
            target = target / "index.html"
        if not target.is_relative_to(root) or not target.is_file():
            # The portal routes in the fragment (#/…), so anything else is simply not there.
            self._send(404, b"not found", "text/plain; charset=utf-8")
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith("javascript"):
            content_type += "; charset=utf-8"
        # Hashed assets never change; index.html must be revalidated to pick up a new build.
        cache = ("public, max-age=31536000, immutable" if "/assets/" in path else "no-cache")
        self._send(200, target.read_bytes(), content_type, {"Cache-Control": cache})

    def _proxy(self) -> None:
        upstream = urlsplit(self.server.api_url)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        target = self.path[len("/api"):] or "/"
        connection = http.client.HTTPConnection(upstream.hostname or "127.0.0.1",
                                                upstream.port or 80, timeout=60)
        try:
            connection.request(self.command, target, body=body, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        except OSError:
            self._send(502, API_UNREACHABLE, "application/json")
            return
        finally:
            connection.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in _HOP_BY_HOP | {"content-length"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class PortalServer(ThreadingHTTPServer):
    """Static files of the built portal, with ``/api/*`` forwarded to the API."""

    daemon_threads = True

    def __init__(self, port: int, root: Path, api_url: str) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.root = root
        self.api_url = api_url
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="portal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.portal deps|build``: what ``make test`` and ``make run`` need."""
    import argparse

    parser = argparse.ArgumentParser(description="Install or build the portal.")
    parser.add_argument("what", choices=("deps", "build"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
    try:
        ensure_dependencies() if args.what == "deps" else build()
    except PortalBuildError as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
