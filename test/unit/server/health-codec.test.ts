import type { MethodDefinition } from '@grpc/grpc-js';
import fc from 'fast-check';
import { service as packageHealth } from 'grpc-health-check';
import { describe, expect, it } from 'vitest';
import {
  decodeHealthCheckRequest,
  decodeHealthCheckResponse,
  decodeHealthListRequest,
  encodeHealthCheckRequest,
  encodeHealthCheckResponse,
  encodeHealthListResponse,
  healthServiceDefinition,
  type ServingStatus,
} from '../../../src/server/health-codec.js';

/** grpc-health-check's proto-loader codec over grpc's own health.proto: the independent side. */
const generic = (name: string) => packageHealth[name] as MethodDefinition<object, object>;
const bytes = (...b: number[]) => Buffer.from(b);
const STATUSES: ServingStatus[] = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

describe('HealthCheckRequest decoding', () => {
  const cases: [string, Buffer, ReturnType<typeof decodeHealthCheckRequest>][] = [
    ['empty message: the server as a whole', bytes(), { service: '' }],
    ['service = "ab"', bytes(0x0a, 2, 0x61, 0x62), { service: 'ab' }],
    ['multi-byte UTF-8', bytes(0x0a, 5, 0xc3, 0xa9, 0xe2, 0x9c, 0x93), { service: 'é✓' }],
    ['last occurrence wins', bytes(0x0a, 1, 0x61, 0x0a, 1, 0x62), { service: 'b' }],
    ['unknown varint field skipped', bytes(0x10, 0x96, 0x01, 0x0a, 1, 0x61), { service: 'a' }],
    [
      'unknown fixed64 skipped',
      bytes(0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 1, 0x61),
      { service: 'a' },
    ],
    ['unknown fixed32 skipped', bytes(0x25, 1, 2, 3, 4), { service: '' }],
    [
      'unknown length-delimited skipped',
      bytes(0x7a, 2, 0xff, 0xff, 0x0a, 1, 0x61),
      { service: 'a' },
    ],
    ['large field number skipped', bytes(0xfa, 0xff, 0xff, 0xff, 0x0f, 0), { service: '' }],
    [
      'service with the wrong wire type',
      bytes(0x08, 1),
      { invalid: 'service has wire type 0, not 2' },
    ],
    [
      'service length past the end',
      bytes(0x0a, 5, 0x61),
      { invalid: 'length past the end of the message' },
    ],
    ['truncated tag varint', bytes(0x80), { invalid: 'truncated varint' }],
    ['truncated length varint', bytes(0x0a, 0x80), { invalid: 'truncated varint' }],
    [
      'varint longer than 10 bytes',
      bytes(0x10, ...Array<number>(11).fill(0xff)),
      { invalid: 'varint longer than 10 bytes' },
    ],
    ['truncated fixed64', bytes(0x19, 1, 2, 3), { invalid: 'truncated fixed-width field' }],
    ['truncated fixed32', bytes(0x25, 1), { invalid: 'truncated fixed-width field' }],
    ['field number 0', bytes(0x02, 0), { invalid: 'field number 0' }],
    ['group start (proto2 only)', bytes(0x13, 0x14), { invalid: 'unsupported wire type 3' }],
    ['wire type 7', bytes(0x17), { invalid: 'unsupported wire type 7' }],
    ['service not UTF-8', bytes(0x0a, 2, 0xc3, 0x28), { invalid: 'service is not UTF-8' }],
    ['lone surrogate bytes', bytes(0x0a, 3, 0xed, 0xa0, 0x80), { invalid: 'service is not UTF-8' }],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(decodeHealthCheckRequest(input)).toEqual(expected);
  });

  it('reads what the proto-loader codec writes', () => {
    for (const service of [
      '',
      'envoy.service.auth.v3.Authorization',
      'ünïcode ✓',
      'x'.repeat(300),
    ]) {
      const wire = generic('Check').requestSerialize({ service }) as Buffer;
      expect(decodeHealthCheckRequest(wire)).toEqual({ service });
    }
  });

  it('never throws, on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
        const out = decodeHealthCheckRequest(Buffer.from(raw));
        expect('service' in out || 'invalid' in out).toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });

  it('agrees with the proto-loader decoder wherever both accept the bytes', () => {
    // protobufjs is laxer (field 0, groups, bad UTF-8) and stricter on tags over 5 bytes, which
    // the spec allows (as Go's protowire reads them); where both read a message, they agree.
    const theirs = (raw: Buffer) => {
      try {
        return (generic('Check').requestDeserialize(raw) as { service: string }).service;
      } catch {
        return undefined;
      }
    };
    let compared = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 32 }),
          fc.string().map((service) => generic('Check').requestSerialize({ service }) as Buffer),
        ),
        (raw) => {
          const out = decodeHealthCheckRequest(Buffer.from(raw));
          const other = theirs(Buffer.from(raw));
          if ('service' in out && other !== undefined) {
            compared++;
            expect(other).toBe(out.service);
          }
        },
      ),
      { numRuns: 5_000 },
    );
    expect(compared).toBeGreaterThan(1_000);
  });
});

describe('HealthListRequest decoding', () => {
  it('accepts an empty message and skips unknown fields', () => {
    expect(decodeHealthListRequest(bytes())).toEqual({});
    expect(decodeHealthListRequest(bytes(0x0a, 1, 0x61, 0x10, 1))).toEqual({});
  });
  it('refuses malformed bytes', () => {
    expect(decodeHealthListRequest(bytes(0x0a, 9))).toEqual({
      invalid: 'length past the end of the message',
    });
    expect(decodeHealthListRequest(bytes(0x00))).toEqual({ invalid: 'field number 0' });
  });
});

describe('HealthCheckResponse encoding', () => {
  it.each([
    ['UNKNOWN', bytes()],
    ['SERVING', bytes(0x08, 1)],
    ['NOT_SERVING', bytes(0x08, 2)],
    ['SERVICE_UNKNOWN', bytes(0x08, 3)],
  ] as const)('%s', (status, wire) => {
    expect(encodeHealthCheckResponse({ status })).toEqual(wire);
    expect(generic('Check').responseDeserialize(wire)).toEqual({ status });
    expect(decodeHealthCheckResponse(wire)).toEqual({ status });
  });

  it('reads a status it does not know as UNKNOWN, and refuses malformed bytes', () => {
    expect(decodeHealthCheckResponse(bytes(0x08, 9))).toEqual({ status: 'UNKNOWN' });
    expect(() => decodeHealthCheckResponse(bytes(0x0a, 0))).toThrow('wire type 2');
  });

  it('client side: proto-loader reads the request it writes', () => {
    for (const service of ['', 'a', 'ünïcode ✓']) {
      const wire = encodeHealthCheckRequest({ service });
      expect(generic('Check').requestDeserialize(wire)).toEqual({ service });
    }
  });
});

describe('HealthListResponse encoding', () => {
  it('is read back by the proto-loader decoder', () => {
    const statuses = {
      '': { status: 'SERVING' as const },
      'envoy.service.auth.v3.Authorization': { status: 'NOT_SERVING' as const },
      'ünïcode ✓': { status: 'UNKNOWN' as const },
      [`long.${'x'.repeat(200)}`]: { status: 'SERVICE_UNKNOWN' as const },
    };
    const wire = encodeHealthListResponse({ statuses });
    expect(generic('List').responseDeserialize(wire)).toEqual({ statuses });
  });

  it('an empty list is an empty message', () => {
    expect(encodeHealthListResponse({ statuses: {} })).toEqual(bytes());
  });

  it('every status survives the round trip', () => {
    for (const status of STATUSES) {
      const wire = encodeHealthListResponse({ statuses: { s: { status } } });
      expect(generic('List').responseDeserialize(wire)).toEqual({ statuses: { s: { status } } });
    }
  });
});

describe('the grpc-js definition', () => {
  it('has the methods, paths and streaming of grpc.health.v1.Health', () => {
    const ours = healthServiceDefinition();
    for (const name of ['Check', 'Watch', 'List']) {
      expect(ours[name]).toMatchObject({
        path: generic(name).path,
        requestStream: generic(name).requestStream,
        responseStream: generic(name).responseStream,
      });
    }
    expect(Object.keys(ours).sort()).toEqual(Object.keys(packageHealth).sort());
  });
});
