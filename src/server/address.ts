/** Parses the listen addresses of the config: host:port, [v6]:port or unix:/path. */
export function listenTarget(address: string): { host: string; port: number } | { path: string } {
  if (address.startsWith('unix:')) return { path: address.slice('unix:'.length) };
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  return { host, port: Number(address.slice(i + 1)) };
}
