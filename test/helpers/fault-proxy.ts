import net from 'node:net';

/**
 * What the proxy does to traffic. It is a fault injector placed in front of a real peer (the
 * real token-exchange, a real JWKS endpoint, a real `spicedb serve`), not a stand-in for it:
 *   pass       bytes flow both ways unchanged (TLS and HTTP/2 end to end)
 *   down       every connection is reset at once; live ones too (the peer is gone)
 *   stall      connections are accepted and bytes are held, never delivered (a hung peer)
 *   latencyMs  every chunk, both ways, is delivered this much later (a slow peer)
 *   serve      new connections go to a local server instead (a peer answering 5xx, garbage, or
 *              with the wrong certificate); live pass-through connections are reset
 */
export type Fault = 'pass' | 'down' | 'stall' | { latencyMs: number } | { serve: net.Server };

export interface FaultProxy {
  readonly port: number;
  /** Switches the fault; applies to live connections too (see Fault). */
  set(fault: Fault): void;
  /** Connections accepted since start. */
  accepted(): number;
  close(): Promise<void>;
}

interface Pending {
  readonly chunk: Buffer;
  readonly dueAt: number;
}

/** One direction of a proxied connection: an ordered queue released by the current fault. */
class Pipe {
  private readonly queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ending = false;

  constructor(
    private readonly to: net.Socket,
    private readonly fault: () => Fault,
  ) {}

  push(chunk: Buffer): void {
    const f = this.fault();
    const delay = typeof f === 'object' && 'latencyMs' in f ? f.latencyMs : 0;
    this.queue.push({ chunk, dueAt: Date.now() + delay });
    this.pump();
  }

  /** Delivers what is due; called on every push and whenever the fault changes. */
  pump(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.fault() === 'stall') return;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const wait = head.dueAt - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => this.pump(), wait);
        return;
      }
      this.queue.shift();
      if (!this.to.destroyed) this.to.write(head.chunk);
    }
    if (this.ending) this.to.end();
  }

  /** The source ended: end the destination once everything queued is delivered. */
  finish(): void {
    this.ending = true;
    this.pump();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

/** A TCP proxy on 127.0.0.1 (ephemeral port) in front of 127.0.0.1:targetPort. */
export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  let fault: Fault = 'pass';
  let accepted = 0;
  const live = new Set<{ client: net.Socket; upstream: net.Socket; pipes: Pipe[] }>();
  const held = new Set<net.Socket>();

  const proxy = (client: net.Socket) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pipes = [new Pipe(upstream, () => fault), new Pipe(client, () => fault)];
    const conn = { client, upstream, pipes };
    live.add(conn);
    client.on('data', (d: Buffer) => pipes[0]!.push(d));
    upstream.on('data', (d: Buffer) => pipes[1]!.push(d));
    const destroy = () => {
      live.delete(conn);
      pipes.forEach((p) => p.stop());
      client.destroy();
      upstream.destroy();
    };
    // A side that closes ends the other once what it sent has been delivered (latency included).
    client.on('close', () => pipes[0]!.finish());
    upstream.on('close', () => pipes[1]!.finish());
    client.on('error', destroy);
    upstream.on('error', destroy);
    let closed = 0;
    const both = () => ++closed === 2 && live.delete(conn);
    client.on('close', both);
    upstream.on('close', both);
  };

  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const f = fault;
    if (f === 'down') return void socket.resetAndDestroy();
    if (f === 'stall') {
      held.add(socket);
      socket.on('close', () => held.delete(socket));
      socket.resume(); // swallow what the client sends; answer nothing
      return;
    }
    if (typeof f === 'object' && 'serve' in f) return void f.serve.emit('connection', socket);
    proxy(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));

  return {
    port: (server.address() as net.AddressInfo).port,
    set(next) {
      fault = next;
      const cut = next === 'down' || (typeof next === 'object' && 'serve' in next);
      for (const conn of [...live]) {
        if (cut) {
          live.delete(conn);
          conn.pipes.forEach((p) => p.stop());
          conn.client.resetAndDestroy();
          conn.upstream.destroy();
        } else {
          conn.pipes.forEach((p) => p.pump());
        }
      }
      if (next !== 'stall') for (const s of held) s.destroy();
    },
    accepted: () => accepted,
    close: () =>
      new Promise((r) => {
        for (const conn of live) conn.upstream.destroy();
        // Including connections handed to a `serve` server.
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
