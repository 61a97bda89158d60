import { describe, expect, it } from 'vitest';
import { HeaderBlockAssembler } from '../../../src/h2/header-block.js';
import { ErrorCode, Flag } from '../../../src/h2/protocol.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');

describe('HeaderBlockAssembler', () => {
  it('returns a single-frame block as it is', () => {
    const block = new HeaderBlockAssembler(100).headers(
      Flag.END_HEADERS | Flag.END_STREAM,
      1,
      bytes('abc'),
    );
    expect(block).toEqual({
      streamId: 1,
      endStream: true,
      dependsOnItself: false,
      bytes: bytes('abc'),
    });
  });

  it('takes off padding and the priority fields, and notes a dependency on itself', () => {
    const payload = Buffer.concat([
      Buffer.of(2),
      Buffer.of(0, 0, 0, 3, 16),
      bytes('abc'),
      Buffer.of(0, 0),
    ]);
    const block = new HeaderBlockAssembler(100).headers(
      Flag.END_HEADERS | Flag.PADDED | Flag.PRIORITY,
      3,
      payload,
    );
    expect(block).toMatchObject({ bytes: bytes('abc'), dependsOnItself: true });
  });

  it('joins CONTINUATION frames, open until END_HEADERS', () => {
    const a = new HeaderBlockAssembler(100);
    expect(a.headers(0, 1, bytes('ab'))).toBeUndefined();
    expect(a.open).toBe(true);
    expect(a.continuation(0, 1, bytes('cd'))).toBeUndefined();
    expect(a.continuation(Flag.END_HEADERS, 1, bytes('e'))).toMatchObject({
      bytes: bytes('abcde'),
    });
    expect(a.open).toBe(false);
  });

  it.each([
    [
      'padding longer than the frame',
      () =>
        new HeaderBlockAssembler(100).headers(
          Flag.END_HEADERS | Flag.PADDED,
          1,
          Buffer.of(5, 1, 2),
        ),
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      'no room for the pad length',
      () => new HeaderBlockAssembler(100).headers(Flag.PADDED, 1, Buffer.alloc(0)),
      ErrorCode.FRAME_SIZE_ERROR,
    ],
    [
      'no room for the priority fields',
      () => new HeaderBlockAssembler(100).headers(Flag.PRIORITY, 1, Buffer.alloc(4)),
      ErrorCode.FRAME_SIZE_ERROR,
    ],
    [
      'a CONTINUATION with no HEADERS before it',
      () => new HeaderBlockAssembler(100).continuation(Flag.END_HEADERS, 1, bytes('a')),
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      'a CONTINUATION on another stream',
      () => {
        const a = new HeaderBlockAssembler(100);
        a.headers(0, 1, bytes('a'));
        return a.continuation(Flag.END_HEADERS, 3, bytes('b'));
      },
      ErrorCode.PROTOCOL_ERROR,
    ],
    [
      'a block growing past its bound',
      () => {
        const a = new HeaderBlockAssembler(10);
        a.headers(0, 1, bytes('abcdef'));
        return a.continuation(0, 1, bytes('ghijk'));
      },
      ErrorCode.ENHANCE_YOUR_CALM,
    ],
    [
      'a run of empty CONTINUATION frames',
      () => {
        const a = new HeaderBlockAssembler(10);
        a.headers(0, 1, bytes('a'));
        let last;
        for (let i = 0; i < 100 && last === undefined; i++) last = a.continuation(0, 1, bytes(''));
        return last;
      },
      ErrorCode.ENHANCE_YOUR_CALM,
    ],
  ])('is an error with %s', (_what, run, code) => {
    expect(run()).toBe(code);
  });
});
