import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeCheckRequest } from '../../../src/envoy/check-request-decoder.js';
import { authorizationService } from '../../../src/envoy/proto.js';
import type { CheckRequest } from '../../../src/envoy/types.js';
import { WireError } from '../../../src/envoy/wire.js';

const generic = authorizationService().Check!;
const serialize = (req: unknown) => generic.requestSerialize(req) as Buffer;

/** Everything Envoy may send, including the fields the lean decoder skips. */
const FULL = {
  attributes: {
    source: {
      address: { socket_address: { address: '10.0.0.1', port_value: 5555 } },
      service: 'frontend',
      labels: { app: 'x' },
      principal: 'spiffe://cluster.local/ns/a/sa/b',
      certificate: '-----BEGIN%20CERTIFICATE-----',
    },
    destination: {
      address: { socket_address: { address: '10.0.0.2', port_value: 8080 } },
      principal: 'gateway',
    },
    request: {
      time: { seconds: 1_700_000_000, nanos: 5 },
      http: {
        id: '12345',
        method: 'POST',
        headers: {
          ':path': '/v2/namespaces?x=1',
          authorization: 'Bearer a.b.c',
          'x-ünïcode': 'välue ✓',
          constructor: 'not a function',
          empty: '',
        },
        path: '/v2/namespaces?x=1',
        host: 'gateway:8080',
        scheme: 'https',
        query: '',
        fragment: '',
        size: 128,
        protocol: 'HTTP/2',
        body: 'hello',
        raw_body: Buffer.from([1, 2, 3]),
        header_map: {
          headers: [
            { key: 'a', value: '1' },
            { key: 'b', raw_value: Buffer.from('2') },
          ],
        },
      },
    },
    context_extensions: { 'jwtexchange.direction': 'outbound', 'jwtexchange.audience': 'vm' },
    metadata_context: { filter_metadata: { x: { fields: { y: { string_value: 'z' } } } } },
    tls_session: { sni: 'gateway.example' },
  },
};

const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe('lean CheckRequest decoder', () => {
  it('reads the same values as the generic decoder for every field it keeps', () => {
    const bytes = serialize(FULL);
    const lean = decodeCheckRequest(bytes);
    const full = generic.requestDeserialize(bytes) as CheckRequest;
    const http = full.attributes!.request!.http!;
    expect(plain(lean)).toEqual({
      attributes: {
        source: { service: 'frontend', principal: 'spiffe://cluster.local/ns/a/sa/b' },
        destination: { principal: 'gateway' },
        request: {
          http: {
            id: http.id,
            method: http.method,
            headers: http.headers,
            path: http.path,
            host: http.host,
            scheme: http.scheme,
            protocol: http.protocol,
            header_map: plain(http.header_map),
          },
        },
        context_extensions: full.attributes!.context_extensions,
      },
    });
  });

  it('makes maps that inherit nothing, so header names never reach Object.prototype', () => {
    const lean = decodeCheckRequest(serialize(FULL));
    const headers = lean.attributes!.request!.http!.headers!;
    expect(headers.constructor).toBe('not a function');
    expect(headers.toString).toBeUndefined();
    expect('hasOwnProperty' in headers).toBe(false);
    const evil = decodeCheckRequest(
      serialize({ attributes: { context_extensions: { __proto__: 'x', polluted: 'y' } } }),
    );
    expect(Object.keys(evil.attributes!.context_extensions!)).toContain('polluted');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('decodes an empty request and one without attributes', () => {
    expect(decodeCheckRequest(Buffer.alloc(0))).toEqual({});
    expect(plain(decodeCheckRequest(serialize({ attributes: {} })))).toEqual({ attributes: {} });
  });

  it('keeps the last value of a repeated map key, as protobuf does', () => {
    const a = serialize({ attributes: { context_extensions: { k: 'first' } } });
    const b = serialize({ attributes: { context_extensions: { k: 'second' } } });
    const merged = decodeCheckRequest(Buffer.concat([a, b]));
    expect(merged.attributes!.context_extensions!.k).toBe('second');
  });

  it('refuses every truncation of a real request with a WireError', () => {
    const bytes = serialize(FULL);
    let refused = 0;
    for (let n = 1; n < bytes.length; n++) {
      try {
        decodeCheckRequest(bytes.subarray(0, n));
      } catch (err) {
        expect(err).toBeInstanceOf(WireError);
        refused++;
      }
    }
    // A cut that falls between two top-level fields is a valid (shorter) message.
    expect(refused).toBeGreaterThan(bytes.length / 2);
  });

  it('ends on random bytes with a result or a WireError, nothing else', () => {
    for (let i = 0; i < 2_000; i++) {
      const junk = randomBytes(1 + (i % 200));
      try {
        decodeCheckRequest(junk);
      } catch (err) {
        expect(err).toBeInstanceOf(WireError);
      }
    }
  });

  it('refuses a known field sent with the wrong wire type', () => {
    // attributes (field 1) as a varint instead of a message
    expect(() => decodeCheckRequest(Buffer.from([0x08, 0x01]))).toThrow(WireError);
  });
});
