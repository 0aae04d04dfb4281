'use strict';
// A visit counter: every request to / increments the `visits` key in Redis.
//
// The app has no dependencies on purpose: it talks to Redis with the small
// RESP (REdis Serialization Protocol) client below, built on Node's `net`
// module, so `npm install` is never needed.
//
// Configuration comes from the environment:
//   REDIS_URL  redis://[[user]:password@]host[:port][/db]   (gorae injects it)
//   PORT       port to listen on (default 3000)

const http = require('http');
const net = require('net');

const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const PORT = Number(process.env.PORT) || 3000;
const TIMEOUT_MS = 5000; // connect and per-command timeout

// ---------------------------------------------------------------------------
// RESP parser
// ---------------------------------------------------------------------------

// Parse one reply starting at `pos`. Returns { value, end } or null when the
// buffer does not yet hold a complete reply (TCP may split a reply anywhere,
// even inside "\r\n", so nothing is consumed until the whole reply is there).
// Error replies are returned as Error objects, not thrown: they belong to one
// command and do not break the connection.
function parseReply(buf, pos) {
  if (pos >= buf.length) return null;
  const lineEnd = buf.indexOf('\r\n', pos);
  if (lineEnd === -1) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('utf8', pos + 1, lineEnd);
  const next = lineEnd + 2;

  switch (type) {
    case '+': // simple string: +OK
      return { value: line, end: next };
    case '-': // error: -ERR message
      return { value: new RedisError(line), end: next };
    case ':': // integer: :42
      return { value: toInt(line), end: next };
    case '$': { // bulk string: $5\r\nhello\r\n, or $-1 for null
      const len = toInt(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return null;
      return { value: buf.toString('utf8', next, next + len), end: next + len + 2 };
    }
    case '*': { // array: *2\r\n<reply><reply>, or *-1 for null
      const count = toInt(line);
      if (count < 0) return { value: null, end: next };
      const items = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if (item === null) return null;
        items.push(item.value);
        at = item.end;
      }
      return { value: items, end: at };
    }
    default:
      // Anything else means we lost track of the stream; the caller drops the
      // connection rather than guess.
      throw new Error(`RESP protocol error: unexpected type byte ${JSON.stringify(type)}`);
  }
}

function toInt(text) {
  if (!/^-?\d+$/.test(text)) throw new Error(`RESP protocol error: bad integer ${JSON.stringify(text)}`);
  return Number(text);
}

class RedisError extends Error {
  constructor(message) {
    super(message);
    this.name = 'RedisError';
  }
}

// Encode a command as a RESP array of bulk strings. Lengths are byte counts,
// not character counts, so non-ASCII arguments are framed correctly.
function encodeCommand(args) {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const s = String(arg);
    out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  }
  return out;
}

// ---------------------------------------------------------------------------
// RESP client: one persistent connection, replies matched to commands in order
// ---------------------------------------------------------------------------

class RedisClient {
  constructor(url) {
    const u = new URL(url);
    this.host = u.hostname || '127.0.0.1';
    this.port = Number(u.port) || 6379;
    this.username = decodeURIComponent(u.username);
    this.password = decodeURIComponent(u.password);
    this.db = Number(u.pathname.slice(1)) || 0;
    this.socket = null;
    this.pending = []; // commands sent and awaiting a reply, oldest first
    this.buffer = Buffer.alloc(0);
  }

  // Send a command; resolves with the reply or rejects with a RedisError
  // (error reply) or a connection error.
  command(...args) {
    if (this.socket === null) this._connect();
    return this._send(args);
  }

  _send(args) {
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // No answer in time: the connection is unusable (or the server is
        // gone). Dropping it fails every pending command and forces a
        // reconnect on the next one.
        this._drop(socket, new Error(`Redis did not answer within ${TIMEOUT_MS} ms`));
      }, TIMEOUT_MS);
      this.pending.push({ resolve, reject, timer });
      // Writes issued while still connecting are buffered by the socket.
      socket.write(encodeCommand(args));
    });
  }

  _connect() {
    const socket = net.createConnection({ host: this.host, port: this.port });
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10000);

    socket.on('data', (chunk) => {
      if (this.socket !== socket) return; // a connection we already dropped
      this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
      let pos = 0;
      try {
        for (;;) {
          const reply = parseReply(this.buffer, pos);
          if (reply === null) break;
          pos = reply.end;
          const cmd = this.pending.shift();
          if (!cmd) throw new Error('RESP protocol error: reply without a command');
          clearTimeout(cmd.timer);
          if (reply.value instanceof Error) cmd.reject(reply.value);
          else cmd.resolve(reply.value);
        }
      } catch (err) {
        this._drop(socket, err);
        return;
      }
      // Keep only the unparsed tail (a partial reply, if any).
      this.buffer = this.buffer.subarray(pos);
    });
    let connected = false;
    socket.on('connect', () => { connected = true; });
    socket.on('error', (err) => this._drop(socket, connected ? err
      : new Error(`cannot connect to Redis at ${this.host}:${this.port}: ${err.message}`)));
    socket.on('close', () => this._drop(socket, new Error('connection to Redis closed')));

    // Authenticate and select the database before anything else is sent on
    // this connection, so replies stay in order. If these fail, the commands
    // behind them fail with the same error.
    if (this.password) {
      const auth = this.username ? ['AUTH', this.username, this.password] : ['AUTH', this.password];
      this._send(auth).catch((err) => this._drop(socket, new Error(`Redis AUTH failed: ${err.message}`)));
    }
    if (this.db) {
      this._send(['SELECT', this.db]).catch((err) => this._drop(socket, new Error(`Redis SELECT failed: ${err.message}`)));
    }
  }

  // Forget the connection and fail everything waiting on it. The next
  // command opens a fresh connection, which is how we reconnect after Redis
  // restarts or the network blips. Events from a connection that was already
  // replaced are ignored.
  _drop(socket, err) {
    if (socket !== this.socket) return;
    this.socket = null;
    socket.destroy();
    const pending = this.pending;
    this.pending = [];
    for (const cmd of pending) {
      clearTimeout(cmd.timer);
      cmd.reject(err);
    }
  }
}

// ---------------------------------------------------------------------------
// HTTP server
// ---------------------------------------------------------------------------

let redis;
try {
  redis = new RedisClient(REDIS_URL);
} catch (err) {
  console.error(`REDIS_URL is not a valid URL (expected redis://host:port): ${err.message}`);
  process.exit(1);
}

function reply(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text + '\n');
}

async function handle(req, res) {
  const path = req.url.split('?')[0];
  try {
    if (path === '/') {
      const visits = await redis.command('INCR', 'visits');
      const times = visits === 1 ? 'time' : 'times';
      return reply(res, 200, `Hello from gorae! This page has been visited ${visits} ${times}.`);
    }
    if (path === '/health') {
      // Healthy means Redis answers, not merely that this process is up.
      const pong = await redis.command('PING');
      if (pong === 'PONG') return reply(res, 200, 'ok');
      return reply(res, 503, `unexpected PING reply: ${pong}`);
    }
    return reply(res, 404, 'not found');
  } catch (err) {
    // One line for the client and the log; an error reply from Redis is a
    // failed command (500), anything else means Redis is out of reach (503).
    const message = err instanceof RedisError ? `Redis error: ${err.message}`
      : `Redis is unavailable: ${err.message}`;
    console.error(`${req.method} ${path}: ${message}`);
    return reply(res, err instanceof RedisError ? 500 : 503, message);
  }
}

const server = http.createServer((req, res) => {
  handle(req, res);
});

server.listen(PORT, '0.0.0.0', () => {
  // Never print the whole URL: it may hold a password.
  console.log(`listening on http://0.0.0.0:${PORT} (Redis at ${redis.host}:${redis.port})`);
});
