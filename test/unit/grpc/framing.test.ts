import { describe, expect, it } from 'vitest';
import { frameMessage, singleMessage } from '../../../src/grpc/framing.js';

const frame = (flag: number, payload: Buffer, length = payload.length) => {
  const header = Buffer.alloc(5);
  header[0] = flag;
  header.writeUInt32BE(length, 1);
  return Buffer.concat([header, payload]);
};

describe('gRPC message framing', () => {
  it('frames a message with a zero flag and its big-endian length', () => {
    expect(frameMessage(Buffer.from('abc'))).toEqual(Buffer.from([0, 0, 0, 0, 3, 97, 98, 99]));
    expect(frameMessage(Buffer.alloc(0))).toEqual(Buffer.alloc(5));
  });

  it('reads back the one message of a body, empty messages included', () => {
    expect(singleMessage(frameMessage(Buffer.from('hello')))).toEqual(Buffer.from('hello'));
    expect(singleMessage(frameMessage(Buffer.alloc(0)))).toEqual(Buffer.alloc(0));
  });

  it.each([
    ['an empty body', Buffer.alloc(0), 'not-one-message'],
    ['a partial header', Buffer.from([0, 0, 0]), 'truncated'],
    ['a length past the end', frame(0, Buffer.from('ab'), 3), 'truncated'],
    ['a length of 4 GiB', frame(0, Buffer.from('ab'), 0xffffffff), 'truncated'],
    [
      'two messages',
      Buffer.concat([frameMessage(Buffer.from('a')), frameMessage(Buffer.from('b'))]),
      'not-one-message',
    ],
    [
      'bytes after the message',
      Buffer.concat([frameMessage(Buffer.from('a')), Buffer.from([0])]),
      'not-one-message',
    ],
    ['a compressed message', frame(1, Buffer.from('a')), 'compressed'],
  ])('%s is %s', (_what, body, problem) => {
    expect(singleMessage(body)).toBe(problem);
  });
});
