/**
 * The port churn of scripts/stress-suite.ts:
 *   node --import tsx scripts/stress-churn.ts CONNECT_RATE LISTEN_RATE
 * opens CONNECT_RATE outgoing loopback TCP connections per second to a listener of its own and
 * closes each once connected (every connect takes an ephemeral port, as busy neighbours do), and
 * opens LISTEN_RATE listeners per second on port 0, each held for a second (what parallel test
 * suites do when they start servers: the kernel hands them ports other processes just released).
 * Prints "connections listeners" opened so far, once a second.
 */
import net from 'node:net';

const connectRate = Number(process.argv[2] ?? 300);
const listenRate = Number(process.argv[3] ?? 100);
const TICK_MS = 10;
const HOLD_MS = 1_000;

const server = net.createServer((socket) => {
  socket.on('error', () => undefined);
  socket.end();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const { port } = server.address() as net.AddressInfo;

let connections = 0;
let listeners = 0;
let owedConnects = 0;
let owedListens = 0;

function connectOnce(): void {
  const socket = net.connect(port, '127.0.0.1', () => {
    connections++;
    socket.destroy();
  });
  socket.on('error', () => undefined); // e.g. EADDRNOTAVAIL when the range runs dry
}

function listenOnce(): void {
  const l = net.createServer();
  l.on('error', () => undefined);
  l.listen(0, '127.0.0.1', () => {
    listeners++;
    setTimeout(() => l.close(), HOLD_MS);
  });
}

setInterval(() => {
  owedConnects += (connectRate * TICK_MS) / 1000;
  owedListens += (listenRate * TICK_MS) / 1000;
  for (; owedConnects >= 1; owedConnects--) connectOnce();
  for (; owedListens >= 1; owedListens--) listenOnce();
}, TICK_MS);
setInterval(() => process.stdout.write(`${connections} ${listeners}\n`), 1_000);
