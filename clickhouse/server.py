#!/usr/bin/env python3
"""A local ClickHouse for development and tests: the chDB engine (ClickHouse 26,
embedded, `pip install chdb-core`) behind the part of ClickHouse's HTTP
interface that this project uses. Data is kept on disk in --data.

Speaks (see README.md in this folder):
  GET|HEAD /ping                         -> "Ok.\n"
  GET|POST /?query=...                   -> the query; a POST body is appended to it (INSERT data)
  POST /  (no query parameter)           -> the body is the query
  database=, default_format=, param_<name>= (query parameters, bound by the engine, never spliced)
  X-ClickHouse-User / X-ClickHouse-Key, HTTP basic auth, or user= / password=
  errors: status 400/403/404/500 with X-ClickHouse-Exception-Code, the message as the body

Usage: python3 clickhouse/server.py [--host 127.0.0.1] [--port 8123] [--data .data/clickhouse]
The password comes from CLICKHOUSE_PASSWORD (user CLICKHOUSE_USER, default "default"); none when unset.
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


class Engine:
    """One chDB session; chDB is not safe for concurrent queries, so a lock."""

    def __init__(self, path):
        os.makedirs(path, exist_ok=True)
        self.session = chdb_session.Session(path)
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

    def fail(self, code, message):
        status = STATUS_BY_CODE.get(code, 500)
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

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.handle_query(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            return self.fail(1000, "DB::Exception: request body too large")
        self.handle_query(self.rfile.read(length))

    def handle_query(self, body):
        url = urlsplit(self.path)
        if url.path in ("/ping", "/ping/"):
            return self.answer(200, "Ok.\n", [("Content-Type", "text/plain; charset=UTF-8")])
        if url.path not in ("/", ""):
            return self.answer(404, "There is no handle " + url.path + "\n")
        query = parse_qs(url.query, keep_blank_values=True)
        if not self.authorized(query):
            return self.fail(516, "DB::Exception: default: Authentication failed: password is incorrect, or there is no user with such name.")
        sql = query.get("query", [None])[0]
        data = body.decode("utf-8", errors="replace")
        if sql is None:
            sql, data = data, ""
        elif data:
            sql = sql + "\n" + data
        if not sql.strip():
            return self.answer(200, "Ok.\n")
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
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.engine = Engine(args.data)
    print(f"chdb-http: ClickHouse {chdb.engine_version} on http://{args.host}:{server.server_address[1]}, data in {args.data}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
