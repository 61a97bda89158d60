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
