import { renameSync, rmSync, writeFileSync } from 'node:fs';

/**
 * `--addresses-file FILE`: once every listener is bound, the addresses they really bound, as one
 * JSON object (e.g. {"pid":1,"grpc":"127.0.0.1:40123","http":"127.0.0.1:40124"}). With port 0 in
 * the config this is how a wrapper script, a test or an operator learns the ports. Written to a
 * temporary name and renamed, so a reader never sees half a file; removed again on a clean stop.
 */
export function writeAddressesFile(
  file: string | undefined,
  addresses: Record<string, string>,
): () => void {
  if (!file) return () => undefined;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ pid: process.pid, ...addresses }) + '\n');
  renameSync(tmp, file);
  return () => rmSync(file, { force: true });
}

export const ADDRESSES_FILE_HELP =
  '  --addresses-file FILE  once listening, write the bound addresses there as JSON (for port 0)';
