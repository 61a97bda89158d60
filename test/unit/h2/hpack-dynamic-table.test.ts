import { describe, expect, it } from 'vitest';
import { DynamicTable } from '../../../src/h2/hpack-dynamic-table.js';

const entries = (t: DynamicTable) => Array.from({ length: t.length }, (_, i) => t.entry(i + 1)!);

describe('DynamicTable (RFC 7541 §4)', () => {
  it('puts the newest entry first and counts name + value + 32 octets per entry', () => {
    const table = new DynamicTable(4096);
    table.add('a', 'bb');
    table.add('ccc', '');
    expect(entries(table)).toEqual([
      ['ccc', ''],
      ['a', 'bb'],
    ]);
    expect(table.size).toBe(35 + 35);
    expect([table.name(2), table.value(2)]).toEqual(['a', 'bb']);
    expect(table.entry(0)).toBeUndefined();
    expect(table.entry(3)).toBeUndefined();
  });

  it('evicts the oldest entries until a new one fits', () => {
    const table = new DynamicTable(100);
    table.add('a', 'x'.repeat(17)); // 50
    table.add('b', 'y'.repeat(17)); // 50: exactly full
    expect(table.length).toBe(2);
    table.add('c', ''); // 33: 'a' goes
    expect(entries(table)).toEqual([
      ['c', ''],
      ['b', 'y'.repeat(17)],
    ]);
    expect(table.size).toBe(83);
  });

  it('an entry of exactly the table size is added and fills it', () => {
    const table = new DynamicTable(100);
    table.add('a', 'b');
    table.add('n', 'v'.repeat(67)); // 100
    expect(entries(table)).toEqual([['n', 'v'.repeat(67)]]);
    expect(table.size).toBe(100);
  });

  it('an entry larger than the table empties it and is not added', () => {
    const table = new DynamicTable(100);
    table.add('a', 'b');
    table.add('n', 'v'.repeat(68)); // 101
    expect(table.length).toBe(0);
    expect(table.size).toBe(0);
  });

  it('a smaller maximum evicts; a larger one evicts nothing', () => {
    const table = new DynamicTable(4096);
    for (const name of ['a', 'b', 'c']) table.add(name, '');
    table.resize(70);
    expect(entries(table)).toEqual([
      ['c', ''],
      ['b', ''],
    ]);
    table.resize(0);
    expect(table.length).toBe(0);
    table.add('d', '');
    expect(table.length).toBe(0);
    table.resize(4096);
    table.add('d', '');
    expect(entries(table)).toEqual([['d', '']]);
    expect(table.maxSize).toBe(4096);
  });

  it('stays right across many wraps of its ring, against a plain array', () => {
    const table = new DynamicTable(4096);
    const model: [string, string][] = [];
    let modelSize = 0;
    for (let i = 0; i < 5000; i++) {
      // Sizes from 32 (the smallest: 128 entries fill the table) to 32 + 300.
      const entry: [string, string] = [i % 7 === 0 ? '' : `n${i % 13}`, 'v'.repeat((i * 37) % 290)];
      table.add(...entry);
      model.unshift(entry);
      modelSize += entry[0].length + entry[1].length + 32;
      while (modelSize > 4096) {
        const [name, value] = model.pop()!;
        modelSize -= name.length + value.length + 32;
      }
      if (i % 97 === 0) expect(entries(table)).toEqual(model);
    }
    expect(entries(table)).toEqual(model);
    expect(table.size).toBe(modelSize);
  });

  it('holds 128 of the smallest entries at 4096 octets', () => {
    const table = new DynamicTable(4096);
    for (let i = 0; i < 200; i++) table.add('', '');
    expect(table.length).toBe(128);
    expect(table.size).toBe(4096);
  });
});
