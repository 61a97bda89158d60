import type { AddressInfo, Server } from 'node:net';
import type { ServerMessage } from '../lib/server-protocol.js';

/**
 * The bare servers' side of the IPC channel to the orchestrator (lib/servers.ts): says `ready`
 * with the bound port, answers {type:'stats'} with the calls served, stops on SIGTERM, and exits
 * when the orchestrator goes away (no orphan holding a port).
 */
export function reportToParent(port: number, calls: () => number, stop: () => void): void {
  const send = (m: ServerMessage) => process.send?.(m);
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'stats') send({ type: 'stats', stats: { ok: calls(), denied: 0, samples: [] } });
  });
  process.on('SIGTERM', stop);
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port });
}

/** Listens on argv[2] (host:port, default 127.0.0.1:0), then reports to the parent as above. */
export async function listenForParent(
  server: Server,
  calls: () => number,
  stop: () => void,
): Promise<void> {
  const address = process.argv[2] ?? '127.0.0.1:0';
  const at = address.lastIndexOf(':');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(address.slice(at + 1)), address.slice(0, at), resolve);
  });
  reportToParent((server.address() as AddressInfo).port, calls, stop);
}
