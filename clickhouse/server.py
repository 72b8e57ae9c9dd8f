#!/usr/bin/env python3
"""A local ClickHouse for development and tests: the chDB engine (ClickHouse 26,
embedded, `pip install chdb-core`) behind the part of ClickHouse's HTTP
interface that this project uses. Data is kept on disk in --data.

Speaks (see README.md in this folder):
  GET|HEAD /ping                         -> "Ok.\n"
  GET /?query=...                        -> a read-only query (SELECT, SHOW, DESCRIBE, EXISTS, WITH)
  POST /?query=...                       -> the query; the body is appended to it (INSERT data)
  POST /  (no query parameter)           -> the body is the query
  database=, default_format=, param_<name>= (query parameters, bound by the engine, never spliced)
  X-ClickHouse-User / X-ClickHouse-Key, HTTP basic auth, or user= / password=
  errors: status 400/403/404/500 with X-ClickHouse-Exception-Code, the message as the body

Usage: python3 clickhouse/server.py [--host 127.0.0.1] [--port 8123] [--data .data/clickhouse]
The password comes from CLICKHOUSE_PASSWORD (user CLICKHOUSE_USER, default "default"): it is
required, since any web page a developer opens may send requests to 127.0.0.1 (`npm start`
makes one, kept in .data/clickhouse-password). Requests whose Host is not this server's own
(127.0.0.1, localhost, [::1] at its port) are refused: a DNS-rebinding page cannot reach it.
A POST needs a valid Content-Length (no chunked bodies).
"""
import argparse
import base64
import hmac
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import chdb
from chdb import session as chdb_session

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ERROR_CODE = re.compile(r"Code: (\d+)\.")
# ClickHouse's HTTP statuses for the error codes a client acts on
STATUS_BY_CODE = {62: 400, 27: 400, 26: 400, 117: 400, 53: 400, 60: 404, 81: 404, 516: 403}
MAX_BODY = 256 * 1024 * 1024
# what a GET may run (ClickHouse runs GET requests read-only, readonly = 1)
READ_ONLY = re.compile(r"^\s*(SELECT|SHOW|DESCRIBE|DESC|EXISTS|WITH|EXPLAIN)\b", re.IGNORECASE)
WRITES_A_FILE = re.compile(r"\bINTO\s+OUTFILE\b", re.IGNORECASE)


class Engine:
    """One chDB session; chDB is not safe for concurrent queries, so a lock."""

    def __init__(self, path):
        path = os.path.abspath(path)
        os.makedirs(path, exist_ok=True)
        self.session = chdb_session.Session(path)
        # file() writes relative to the working directory in chDB; a server
        # writes under its user_files directory: the same here (the Parquet
        # exports' "directory when self-hosted", docs/exports.md)
        user_files = os.path.join(path, "user_files")
        os.makedirs(user_files, exist_ok=True)
        os.chdir(user_files)
        self.lock = threading.Lock()

    def query(self, sql, database, fmt, params):
        with self.lock:
            self.session.query(f"USE {database}", "TabSeparated")
            return self.session.query(sql, fmt, params=params or None)


class Handler(BaseHTTPRequestHandler):
    server_version = "chdb-http"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # requests are not logged: they may carry event data
        pass

    def answer(self, status, body, headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def fail(self, code, message, status=None):
        status = status or STATUS_BY_CODE.get(code, 500)
        self.answer(status, f"Code: {code}. {message}\n", [("X-ClickHouse-Exception-Code", str(code)), ("Content-Type", "text/plain; charset=UTF-8")])

    def authorized(self, query):
        want_user = os.environ.get("CLICKHOUSE_USER", "default")
        want_password = os.environ.get("CLICKHOUSE_PASSWORD", "")
        user = self.headers.get("X-ClickHouse-User") or query.get("user", [None])[0]
        password = self.headers.get("X-ClickHouse-Key") or query.get("password", [None])[0]
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except Exception:
                return False
        return (user or "default") == want_user and hmac.compare_digest((password or "").encode(), want_password.encode())

    def own_host(self):
        """The Host header names this server (not a name an attacker's DNS points here)."""
        port = self.server.server_address[1]
        host = (self.headers.get("Host") or "").lower()
        return host in {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"{self.server.bind_host}:{port}"}

    def do_HEAD(self):
        self.do_GET()

    def refused_host(self):
        """Answers 403 when the Host is not this server's own; True when it did."""
        if self.own_host():
            return False
        self.close_connection = True
        self.answer(403, "Forbidden: the Host header does not name this server\n")
        return True

    def refused_user(self):
        """Answers 516 when the credentials are wrong; True when it did."""
        if self.authorized(parse_qs(urlsplit(self.path).query, keep_blank_values=True)):
            return False
        self.close_connection = True
        self.fail(516, "DB::Exception: default: Authentication failed: password is incorrect, or there is no user with such name.")
        return True

    def do_GET(self):
        if self.refused_host():
            return
        self.handle_query(b"", read_only=True)

    def do_POST(self):
        # who and where first: no body is read for a request that is refused anyway
        if self.refused_host() or self.refused_user():
            return
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # the body is not read: the connection cannot go on
            return self.fail(1000, "DB::Exception: a body must come with a Content-Length, not chunked", status=411)
        text = self.headers.get("Content-Length") or "0"
        if not text.isdigit():
            self.close_connection = True
            return self.fail(1000, f"DB::Exception: Content-Length {text!r} is not a number of bytes", status=400)
        length = int(text)
        if length > MAX_BODY:
            self.close_connection = True
            return self.fail(1000, f"DB::Exception: the request body is larger than {MAX_BODY} bytes", status=413)
        body = self.rfile.read(length)
        if len(body) < length:
            # the client went away mid-body (a replica killed while sending):
            # a partial INSERT must not run, and there is no one to answer
            self.close_connection = True
            return
        self.handle_query(body, read_only=False)

    def handle_query(self, body, read_only):
        """The query, once the Host is checked (and, for a POST, the credentials)."""
        url = urlsplit(self.path)
        if url.path in ("/ping", "/ping/"):
            return self.answer(200, "Ok.\n", [("Content-Type", "text/plain; charset=UTF-8")])
        if url.path not in ("/", ""):
            return self.answer(404, "There is no handle " + url.path + "\n")
        # a GET's credentials are checked after /ping, which needs none
        if read_only and self.refused_user():
            return
        query = parse_qs(url.query, keep_blank_values=True)
        sql = query.get("query", [None])[0]
        data = body.decode("utf-8", errors="replace")
        if sql is None:
            sql, data = data, ""
        elif data:
            sql = sql + "\n" + data
        if not sql.strip():
            return self.answer(200, "Ok.\n")
        if read_only and (not READ_ONLY.match(sql) or WRITES_A_FILE.search(sql)):
            return self.fail(164, "DB::Exception: Cannot execute query in readonly mode: a GET request only reads; send a POST. (READONLY)", status=403)
        database = query.get("database", ["default"])[0]
        if not IDENTIFIER.match(database):
            return self.fail(81, f"DB::Exception: Database {database!r} does not exist.")
        fmt = query.get("default_format", ["TabSeparated"])[0]
        params = {k[6:]: v[0] for k, v in query.items() if k.startswith("param_")}
        try:
            result = self.server.engine.query(sql, database, fmt, params)
        except chdb.ChdbError as error:
            text = str(error)
            match = ERROR_CODE.search(text)
            return self.fail(int(match.group(1)) if match else 1001, text.split(". ", 1)[-1] if match else text)
        out = result.bytes() if hasattr(result, "bytes") else str(result).encode()
        self.answer(200, out, [("Content-Type", "text/plain; charset=UTF-8"), ("X-ClickHouse-Format", fmt)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--data", default=".data/clickhouse")
    args = parser.parse_args()
    if not os.environ.get("CLICKHOUSE_PASSWORD"):
        print("chdb-http: set CLICKHOUSE_PASSWORD: any web page may send requests to a local port", file=sys.stderr)
        return 2
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.bind_host = args.host
    server.engine = Engine(args.data)
    print(f"chdb-http: ClickHouse {chdb.engine_version} on http://{args.host}:{server.server_address[1]}, data in {args.data}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
