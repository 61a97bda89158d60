import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../../src/h2/frame-reader.js';
import { frame } from '../../../src/h2/frame-writer.js';
import { PREFACE } from '../../../src/h2/protocol.js';

const STREAM = Buffer.concat([
  PREFACE,
  frame(4, 0, 0),
  frame(1, 4, 1, Buffer.from('abc')),
  frame(0, 1, 1, Buffer.alloc(300, 7)),
]);

function read(chunks: Buffer[]) {
  const reader = new FrameReader(16_384);
  const frames: [number, number, number, string][] = [];
  let problem;
  for (const chunk of chunks) {
    problem ??= reader.push(chunk, (type, flags, id, payload) => {
      frames.push([type, flags, id, payload.toString('hex')]);
      return true;
    });
  }
  return { frames, problem };
}

describe('FrameReader', () => {
  it('cuts the preface and frames out of one read', () => {
    const { frames, problem } = read([STREAM]);
    expect(problem).toBeUndefined();
    expect(frames.map((f) => f.slice(0, 3))).toEqual([
      [4, 0, 0],
      [1, 4, 1],
      [0, 1, 1],
    ]);
  });

  it('gives the same frames when every byte arrives in its own read', () => {
    const bytes = [...STREAM].map((b) => Buffer.of(b));
    expect(read(bytes)).toEqual(read([STREAM]));
  });

  it('gives the same frames at every split point', () => {
    const whole = read([STREAM]);
    for (let at = 1; at < STREAM.length; at++) {
      expect(read([STREAM.subarray(0, at), STREAM.subarray(at)])).toEqual(whole);
    }
  });

  it('refuses a wrong preface from its first differing byte', () => {
    expect(read([Buffer.from('PRI * HTTP/1.1')]).problem).toBe('bad-preface');
    expect(read([Buffer.from('GET')]).problem).toBe('bad-preface');
  });

  it('refuses a frame over the maximum size from its header, before its payload arrives', () => {
    const header = frame(0, 0, 1, Buffer.alloc(16_385)).subarray(0, 9);
    expect(read([PREFACE, header]).problem).toBe('frame-too-large');
  });

  it('stops when the frame callback says so', () => {
    const reader = new FrameReader(16_384);
    let seen = 0;
    reader.push(STREAM, () => (++seen, false));
    expect(seen).toBe(1);
  });
});
