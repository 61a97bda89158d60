import { describe, expect, it } from 'vitest';
import { OpenStreams } from '../../../src/h2/open-streams.js';
import type { H2Stream } from '../../../src/h2/stream.js';

const stream = (id: number) => ({ id }) as H2Stream;

describe('OpenStreams', () => {
  it('finds, counts and forgets streams by id', () => {
    const open = new OpenStreams();
    const a = stream(1);
    open.add(a);
    open.add(stream(3));
    open.add(a); // the same id again is not a second stream
    expect(open.size).toBe(2);
    expect(open.get(1)).toBe(a);
    open.delete(1);
    open.delete(1);
    open.delete(99);
    expect(open.size).toBe(1);
    expect(open.get(1)).toBeUndefined();
  });

  it('lists in opening order, and the list is a snapshot', () => {
    const open = new OpenStreams();
    for (const id of [1, 3, 5, 7, 2_147_483_647]) open.add(stream(id));
    const list = open.list();
    for (const s of list) open.delete(s.id);
    expect(list.map((s) => s.id)).toEqual([1, 3, 5, 7, 2_147_483_647]);
    expect(open.size).toBe(0);
  });
});
