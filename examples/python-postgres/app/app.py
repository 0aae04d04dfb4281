"""A visit counter: every request to / records a row in Postgres.

Standard library only (see pgwire.py), so nothing has to be installed.

Configuration comes from the environment:
  DATABASE_URL  postgres://user:password@host:5432/db   (gorae injects it)
  PORT          port to listen on (default 8000)
"""

import os
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pgwire

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PORT = int(os.environ.get("PORT", "8000"))


class Database:
    """One shared connection, opened on first use and reopened after a failure.

    The lock serialises queries: the wire protocol allows only one query in
    flight per connection, and the HTTP server handles requests in threads.
    """

    def __init__(self, url):
        self.url = url
        self.conn = None
        self.lock = threading.Lock()

    def run(self, *statements):
        """Run statements in order; return the rows of the last one."""
        with self.lock:
            for attempt in (1, 2):
                reused = self.conn is not None
                if not reused:
                    self.conn = self._connect()
                done = 0
                try:
                    rows = None
                    for sql in statements:
                        rows = self.conn.query(sql)
                        done += 1
                    return rows
                except pgwire.PgError:
                    raise  # an SQL error: the connection is still fine
                except BaseException as err:
                    # Broken socket or a reply we could not read: forget the
                    # connection.
                    self.conn.sock.close()
                    self.conn = None
                    # A kept connection can die while idle (the database
                    # restarted) and that only shows when it is used: retry
                    # once on a fresh one, unless a statement already ran.
                    if not (attempt == 1 and reused and done == 0 and isinstance(err, OSError)):
                        raise

    def _connect(self):
        conn = pgwire.connect(self.url)
        try:
            # Here rather than at startup, so the app also recovers when the
            # database was recreated while it was running.
            conn.query("CREATE TABLE IF NOT EXISTS visits ("
                       " id bigserial PRIMARY KEY,"
                       " visited_at timestamptz NOT NULL DEFAULT now())")
        except BaseException:
            conn.close()
            raise
        return conn


db = Database(DATABASE_URL)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        path = urlsplit(self.path).path
        try:
            if path == "/":
                rows = db.run("INSERT INTO visits DEFAULT VALUES",
                              "SELECT count(*) FROM visits")
                n = int(rows[0][0])
                self.reply(200, f"Hello from gorae! Postgres has recorded {n} "
                                f"visit{'' if n == 1 else 's'}.")
            elif path == "/health":
                db.run("SELECT 1")
                self.reply(200, "ok")
            else:
                self.reply(404, "not found")
        except (pgwire.PgError, OSError) as err:
            # Tell the client what went wrong in one line (never a traceback),
            # and log the same line for `gorae logs`.
            message = f"database error: {err}"
            self.log_message("%s %s: %s", self.command, path, message)
            self.reply(500, message)
        except Exception as err:
            # A bug or a bad DATABASE_URL: the traceback goes to the log only.
            traceback.print_exc()
            self.reply(500, f"internal error: {type(err).__name__}: {err}")

    def reply(self, status, text):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    server = ThreadingHTTPServer(("0.0.0.0", PORT), Handler)
    parts = urlsplit(DATABASE_URL)
    # Print where the database is, but never the password.
    print(f"listening on http://0.0.0.0:{PORT} (Postgres at {parts.hostname}:{parts.port or 5432})",
          file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
