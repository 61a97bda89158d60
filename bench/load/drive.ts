import type { ClientHttp2Session } from 'node:http2';
import { checkStatusCode } from '../lib/check-status.js';
import { connectH2c, grpcCall } from '../lib/h2-grpc.js';
import { SampleBuffer } from '../lib/latency.js';
import type { LoadResult, LoadSettings } from '../lib/load-result.js';

/**
 * The h2-cycler: `connections` HTTP/2 connections, each keeping `streams` unary Check calls in
 * flight, sending the pre-framed bodies round-robin (h2load can only repeat one body). Every
 * response is classified by its CheckResponse status code; latency is recorded only for calls
 * that complete inside the measurement window.
 */
export async function drive(
  address: string,
  bodies: readonly Buffer[],
  settings: LoadSettings,
): Promise<LoadResult> {
  if (bodies.length === 0) throw new Error('no request bodies to send');
  const sessions: ClientHttp2Session[] = [];
  for (let i = 0; i < settings.connections; i++) sessions.push(await connectH2c(address));
  const now = () => performance.now();
  const measureFrom = now() + settings.warmupSeconds * 1000;
  const measureTo = measureFrom + settings.durationSeconds * 1000;
  const latencies = new SampleBuffer();
  const tally = { ok: 0, denied: 0, grpcErrors: 0, failed: 0 };
  let next = 0;

  const worker = async (session: ClientHttp2Session) => {
    while (now() < measureTo) {
      const body = bodies[next++ % bodies.length]!;
      const started = now();
      let code: number;
      try {
        const reply = await grpcCall(session, body);
        code = reply.grpcStatus === 0 ? checkStatusCode(reply.body) : -2;
      } catch {
        code = -3;
      }
      const ended = now();
      if (started < measureFrom || ended > measureTo) continue;
      latencies.push((ended - started) * 1000);
      if (code === 0) tally.ok++;
      else if (code > 0) tally.denied++;
      else if (code === -3) tally.failed++;
      else tally.grpcErrors++;
    }
  };
  await Promise.all(
    sessions.flatMap((s) => Array.from({ length: settings.streams }, () => worker(s))),
  );
  for (const s of sessions) s.close();
  const completed = latencies.count;
  return {
    generator: 'h2-cycler',
    completed,
    failed: tally.failed,
    seconds: settings.durationSeconds,
    rps: completed / settings.durationSeconds,
    latencyMs: latencies.summary(),
    outcomes: { ok: tally.ok, denied: tally.denied, grpcErrors: tally.grpcErrors },
  };
}
