import { describe, expect, it } from 'vitest';
import { ManualClock, ManualTimers } from '../../helpers/manual-time.js';
import type { DiscoveredEndpoint } from '../../../src/tokens/server-metadata.js';
import {
  DiscoveredTokenEndpoint,
  type DiscoveryEvent,
} from '../../../src/tokens/token-endpoint-source.js';

function harness() {
  const clock = new ManualClock();
  const timers = new ManualTimers(clock);
  const state = { up: false, calls: 0, endpoint: 'https://sts.example/token' };
  const events: DiscoveryEvent[] = [];
  const source = new DiscoveredTokenEndpoint({
    load: async (): Promise<DiscoveredEndpoint> => {
      state.calls++;
      if (!state.up) throw new Error('connect ECONNREFUSED');
      return { tokenEndpoint: state.endpoint, metadataUrl: 'm', mtlsAlias: true };
    },
    clock,
    timers,
    refreshMs: 3_600_000,
    minBackoffMs: 1_000,
    maxBackoffMs: 8_000,
    random: () => 1,
    onLoad: (e) => events.push(e),
  });
  return { clock, timers, state, events, source };
}

describe('DiscoveredTokenEndpoint', () => {
  it('retries an unreachable metadata endpoint with backoff until it answers', async () => {
    const { timers, state, events, source } = harness();
    source.start();
    await timers.advance(0);
    expect(source.known).toBe(false);
    expect(events[0]).toMatchObject({ ok: false, retryInMs: 1_000, stale: false });
    await timers.advance(1_000 + 2_000 + 4_000);
    expect(state.calls).toBe(4);
    expect(events.map((e) => !e.ok && e.retryInMs)).toEqual([1_000, 2_000, 4_000, 8_000]);
    state.up = true;
    await timers.advance(8_000);
    expect(source.known).toBe(true);
    expect(await source.resolve()).toBe('https://sts.example/token');
    expect(events.at(-1)).toMatchObject({ ok: true, changed: true });
  });

  it('refreshes on schedule and keeps the known endpoint while a reload fails', async () => {
    const { timers, state, events, source } = harness();
    state.up = true;
    source.start();
    await timers.advance(0);
    state.endpoint = 'https://sts.example/v2/token';
    await timers.advance(3_600_000);
    expect(source.resolve()).toBe('https://sts.example/v2/token');
    state.up = false;
    await timers.advance(3_600_000);
    expect(events.at(-1)).toMatchObject({ ok: false, stale: true, retryInMs: 1_000 });
    expect(source.resolve()).toBe('https://sts.example/v2/token');
  });

  it('loads on demand while unknown, one load for concurrent callers, and fails as transport', async () => {
    const { state, source } = harness();
    const a = source.resolve();
    const b = source.resolve();
    await expect(a).rejects.toMatchObject({
      kind: 'transport',
      message: 'the token endpoint is not known: connect ECONNREFUSED',
    });
    await expect(b).rejects.toMatchObject({ kind: 'transport' });
    expect(state.calls).toBe(1);
    state.up = true;
    expect(await source.resolve()).toBe('https://sts.example/token');
  });

  it('schedules nothing after stop', async () => {
    const { timers, source } = harness();
    source.start();
    await timers.advance(0);
    source.stop();
    expect(timers.size).toBe(0);
  });
});
