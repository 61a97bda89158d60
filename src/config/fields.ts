import { isIP } from 'node:net';
import path from 'node:path';
import * as z from 'zod';
import { parseHostPort } from '../net/host-port.js';

/** What section schemas need to know about where the config file lives. */
export interface SchemaContext {
  /** Relative file paths in the config are resolved against this directory. */
  readonly baseDir: string;
}

/** A file path; relative paths are resolved against the config file's directory. */
export const filePath = (ctx: SchemaContext) =>
  z
    .string()
    .min(1, 'must be a file path')
    .transform((p) => path.resolve(ctx.baseDir, p));

/** host:port, [v6]:port, or unix:/path. */
export const listenAddress = z
  .string()
  .refine(
    (v) => v.startsWith('unix:') || parseHostPort(v) !== undefined,
    'must be host:port, [ipv6]:port or unix:/path',
  );

export const durationMs = (max = 3_600_000) => z.number().int().positive().max(max);

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1';
  return false;
}

/** https anywhere, plain http only on loopback (a JWKS over plain http can be swapped in transit). */
export const secureUrl = z.string().superRefine((v, issue) => {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    issue.addIssue({ code: 'custom', message: 'must be an absolute URL' });
    return;
  }
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return;
  issue.addIssue({
    code: 'custom',
    message: 'must use https (plain http is accepted only for loopback hosts)',
  });
});

/** RFC 8414 §2 issuer identifier: https (http on loopback), no query, no fragment. */
export const issuerUrl = secureUrl.superRefine((v, issue) => {
  const url = URL.canParse(v) ? new URL(v) : undefined;
  if (url && (url.search !== '' || url.hash !== '' || v.includes('?') || v.includes('#'))) {
    issue.addIssue({ code: 'custom', message: 'an issuer has no query or fragment (RFC 8414)' });
  }
});

/** RFC 8707 §2 resource indicator: an absolute URI without a fragment. */
export const resourceIndicator = z.string().superRefine((v, issue) => {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+$/.test(v) || !URL.canParse(v)) {
    issue.addIssue({
      code: 'custom',
      message: 'must be an absolute URI without a fragment (RFC 8707)',
    });
  }
});
