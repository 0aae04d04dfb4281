'use strict';
// Answers every request with a greeting from the `greeting` package (installed in
// the image's /app/node_modules) and the stage the image was built from.

const http = require('http');
const greeting = require('greeting');

const PORT = Number(process.env.PORT) || 3000;

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end(`${greeting('gorae')} Served by the ${process.env.NODE_ENV} stage.\n`);
});

server.listen(PORT, () => console.log(`listening on ${PORT}`));

// `stop_signal: SIGINT` in gorae.yaml: close the server and exit at once.
process.on('SIGINT', () => server.close(() => process.exit(0)));
