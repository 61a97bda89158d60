import type { H2Stream } from './stream.js';

/**
 * A connection's open streams by id, on a plain object rather than a Map. A Map that gains and
 * loses an entry per request replaces its hash table every few requests, and V8 keeps a link from
 * each replaced table to the next (live iterators follow it) along with the entries the old table
 * held. Once one such table reaches the old generation, every later table and every stream it
 * held outlive the young-generation collections that should free them: at 40k checks/s that was
 * ~0.5 MB promoted per scavenge and a mark-compact every ~150 ms (bench/README.md, eleventh
 * session). Integer keys on an object keep ascending order, which is the streams' opening order.
 */
export class OpenStreams {
  private readonly byId: Record<number, H2Stream> = Object.create(null) as Record<number, H2Stream>;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): H2Stream | undefined {
    return this.byId[id];
  }

  add(stream: H2Stream): void {
    if (this.byId[stream.id] === undefined) this.count++;
    this.byId[stream.id] = stream;
  }

  delete(id: number): void {
    if (this.byId[id] === undefined) return;
    delete this.byId[id];
    this.count--;
  }

  /** A snapshot in opening order: streams may close while the caller walks it. */
  list(): H2Stream[] {
    return Object.values(this.byId);
  }
}
