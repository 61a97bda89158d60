/**
 * The one parser of `host:port` and `[ipv6]:port` (listen addresses, SpiceDB endpoints): config
 * validation and listening read an address the same way. Undefined when the text is neither.
 */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

/** The inverse: `host:port`, an IPv6 host in brackets (for URLs and log lines). */
export function formatHostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
