"""A minimal PostgreSQL client (wire protocol v3), standard library only.

It exists so this example runs without installing anything: no psycopg, no
pip. It supports what a small app needs and nothing more:

* connecting with a postgres:// URL,
* password authentication: cleartext, md5 and SCRAM-SHA-256,
* the simple query protocol, returning rows as lists of strings (None = NULL).

It does not do TLS, prepared statements, COPY or type conversion.
Protocol reference: https://www.postgresql.org/docs/current/protocol.html
"""

import base64
import hashlib
import hmac
import secrets
import socket
import struct
from urllib.parse import unquote, urlsplit

PROTOCOL_V3 = 196608  # major 3, minor 0


class PgError(Exception):
    """An ErrorResponse from the server, or a protocol/authentication failure."""

    def __init__(self, message, sqlstate=None):
        super().__init__(message)
        self.sqlstate = sqlstate


def connect(url, timeout=10.0):
    """Open a connection from a URL like postgres://user:password@host:5432/db."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"not a postgres:// URL: {parts.scheme}://...")
    # urlsplit leaves user and password percent-encoded; a password with
    # '@' or ':' in it must be written as %40 or %3A in the URL.
    user = unquote(parts.username or "postgres")
    password = unquote(parts.password or "")
    database = unquote(parts.path.lstrip("/")) or user
    return Connection(parts.hostname or "localhost", parts.port or 5432,
                      user, password, database, timeout)


def _cstr(data, pos):
    """Read a NUL-terminated string at pos; return (text, position after NUL)."""
    end = data.index(b"\0", pos)
    return data[pos:end].decode(), end + 1


def _fields(body):
    """Decode ErrorResponse/NoticeResponse fields: a type byte and a string each."""
    fields, pos = {}, 0
    while body[pos] != 0:
        value, next_pos = _cstr(body, pos + 1)
        fields[chr(body[pos])] = value
        pos = next_pos
    return fields


class Connection:
    def __init__(self, host, port, user, password, database, timeout):
        self.user, self.password = user, password
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as err:  # name the server: "Connection refused" alone says little
            raise ConnectionError(f"cannot connect to {host}:{port}: {err.strerror or err}") from err
        try:
            self._startup(database)
        except BaseException:
            self.sock.close()
            raise

    # --- framing -----------------------------------------------------------

    def _send(self, kind, payload=b""):
        # Every message after startup: type byte, int32 length (counting
        # itself but not the type byte), payload.
        self.sock.sendall(kind + struct.pack("!i", len(payload) + 4) + payload)

    def _recv_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("server closed the connection")
            buf += chunk
        return bytes(buf)

    def _recv(self):
        kind, length = struct.unpack("!ci", self._recv_exact(5))
        return kind, self._recv_exact(length - 4)

    # --- startup and authentication --------------------------------------------

    def _startup(self, database):
        params = {"user": self.user, "database": database,
                  "client_encoding": "UTF8", "application_name": "gorae-example"}
        body = struct.pack("!i", PROTOCOL_V3)
        body += b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in params.items())
        body += b"\0"
        # The startup message is the only one without a type byte.
        self.sock.sendall(struct.pack("!i", len(body) + 4) + body)

        scram = None
        while True:
            kind, body = self._recv()
            if kind == b"R":
                scram = self._authenticate(struct.unpack("!i", body[:4])[0], body[4:], scram)
            elif kind == b"E":
                self._raise(body)  # e.g. wrong password, unknown database
            elif kind == b"Z":
                return  # ReadyForQuery: startup finished
            # 'S' ParameterStatus, 'K' BackendKeyData, 'N' NoticeResponse: not needed.

    def _authenticate(self, code, data, scram):
        if code == 0:  # AuthenticationOk
            # With SCRAM, only accept "ok" after the server proved itself.
            if scram is not None and not scram.verified:
                raise PgError("SCRAM: server skipped its final message")
            return scram
        if code == 3:  # cleartext password
            self._send(b"p", self.password.encode() + b"\0")
        elif code == 5:  # md5: "md5" + md5(md5(password + user) + 4-byte salt)
            inner = hashlib.md5((self.password + self.user).encode()).hexdigest()
            outer = hashlib.md5(inner.encode() + data[:4]).hexdigest()
            self._send(b"p", b"md5" + outer.encode() + b"\0")
        elif code == 10:  # SASL: the server lists the mechanisms it accepts
            mechanisms = data.split(b"\0")
            if b"SCRAM-SHA-256" not in mechanisms:
                raise PgError(f"no supported SASL mechanism in {mechanisms}")
            scram = _Scram(self.password)
            first = scram.client_first()
            self._send(b"p", b"SCRAM-SHA-256\0" + struct.pack("!i", len(first)) + first)
        elif code in (11, 12) and scram is None:
            raise PgError("SCRAM: message out of order")
        elif code == 11:  # SASLContinue: server-first-message
            self._send(b"p", scram.client_final(data))
        elif code == 12:  # SASLFinal: the server proves it knew the password too
            scram.verify_server(data)
        else:
            raise PgError(f"unsupported authentication method (code {code})")
        return scram

    # --- queries ---------------------------------------------------------------

    def query(self, sql):
        """Run SQL with the simple query protocol; return the rows of the last
        statement that produced rows, as lists of str (None for NULL)."""
        self._send(b"Q", sql.encode() + b"\0")
        rows, error = [], None
        while True:
            kind, body = self._recv()
            if kind == b"T":  # RowDescription: a new result set begins
                rows = []
            elif kind == b"D":  # DataRow: int16 count, then int32 length + bytes each
                count, pos, row = struct.unpack("!h", body[:2])[0], 2, []
                for _ in range(count):
                    (n,) = struct.unpack("!i", body[pos:pos + 4])
                    pos += 4
                    row.append(None if n == -1 else body[pos:pos + n].decode())
                    pos += max(n, 0)
                rows.append(row)
            elif kind == b"E":
                # Keep reading: the server still sends ReadyForQuery, and the
                # connection stays usable only if we consume it.
                error = body
            elif kind == b"Z":
                if error is not None:
                    self._raise(error)
                return rows
            # 'C' CommandComplete, 'I' EmptyQuery, 'N' Notice, 'S', 'A': ignored.

    def close(self):
        try:
            self._send(b"X")  # Terminate: lets the server end the session cleanly
        except OSError:
            pass
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def _raise(body):
        fields = _fields(body)
        severity = fields.get("S", "ERROR")
        raise PgError(f"{severity}: {fields.get('M', 'unknown error')}", fields.get("C"))


class _Scram:
    """SCRAM-SHA-256 client side (RFC 5802, RFC 7677).

    Postgres takes the user name from the startup message, so the SCRAM user
    name is left empty, as libpq does. The password is used as UTF-8 without
    SASLprep, which is exact for ASCII passwords.
    """

    def __init__(self, password):
        self.password = password.encode()
        self.nonce = base64.b64encode(secrets.token_bytes(18)).decode()
        self.verified = False

    def client_first(self):
        # "n,," = no channel binding; the rest is client-first-message-bare.
        self.first_bare = f"n=,r={self.nonce}"
        return ("n,," + self.first_bare).encode()

    def client_final(self, server_first):
        server_first = server_first.decode()
        attrs = dict(item.split("=", 1) for item in server_first.split(","))
        # The server extends our nonce; anything else is a replay or an attack.
        if not attrs["r"].startswith(self.nonce):
            raise PgError("SCRAM: server nonce does not extend the client nonce")
        salted = hashlib.pbkdf2_hmac("sha256", self.password,
                                     base64.b64decode(attrs["s"]), int(attrs["i"]))
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        stored_key = hashlib.sha256(client_key).digest()
        # "c=biws" is base64("n,,"): the channel-binding header we sent.
        final_bare = f"c=biws,r={attrs['r']}"
        self.auth_message = f"{self.first_bare},{server_first},{final_bare}".encode()
        signature = hmac.digest(stored_key, self.auth_message, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        self.server_key = hmac.digest(salted, b"Server Key", "sha256")
        return f"{final_bare},p={base64.b64encode(proof).decode()}".encode()

    def verify_server(self, server_final):
        # Proves the server holds the password's verifier, not just any server
        # willing to say "ok".
        attrs = dict(item.split("=", 1) for item in server_final.decode().split(","))
        if "e" in attrs:
            raise PgError(f"SCRAM: server reported {attrs['e']}")
        expected = hmac.digest(self.server_key, self.auth_message, "sha256")
        if "v" not in attrs or not hmac.compare_digest(base64.b64decode(attrs["v"]), expected):
            raise PgError("SCRAM: server signature does not match; not the real server?")
        self.verified = True
