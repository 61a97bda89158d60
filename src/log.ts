/**
 * Structured JSON logs, one line per event. Every string in a record is first cut to a bounded
 * length and then scrubbed (src/redact.ts: JWT and PEM shapes, URL userinfo and query strings),
 * both in linear time, so a hostile value can neither slow a log call down nor carry a token,
 * key or credential into the log even by mistake.
 */
import { bounded, scrub } from './redact.js';

export { scrub } from './redact.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Truncate first, then scrub: the scrubber never sees more than MAX_LOGGED_CHARS. */
const clean = (value: string): string => scrub(bounded(value));

const MAX_DEPTH = 4;

function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return clean(value);
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return clean(value.message);
  if (value === null || typeof value !== 'object') return value;
  // Bytes may hold a token that no text pattern would find; deeper values are not walked, so
  // they are dropped rather than written unscrubbed.
  if (value instanceof Uint8Array) return '[bytes]';
  if (depth > MAX_DEPTH) return '[nested]';
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[clean(k)] = scrubValue(v, depth + 1);
  return out;
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
  enabled(level: LogLevel): boolean;
}

export type LogSink = (line: string) => void;

const stderrSink: LogSink = (line) => process.stderr.write(line + '\n');

export function createLogger(
  level: LogLevel = 'info',
  sink: LogSink = stderrSink,
  base: LogFields = {},
): Logger {
  const min = ORDER[level];
  const write = (lvl: LogLevel, msg: string, fields?: LogFields): void => {
    if (ORDER[lvl] < min) return;
    const record = scrubValue({
      time: new Date().toISOString(),
      level: lvl,
      msg,
      ...base,
      ...fields,
    });
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch {
      // A field that cannot be serialized must not turn a log call into a failed check.
      line = JSON.stringify({ level: lvl, msg: clean(msg), error: 'unserializable log fields' });
    }
    sink(line);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(level, sink, { ...base, ...fields }),
    enabled: (lvl) => ORDER[lvl] >= min,
  };
}

export const silentLogger: Logger = createLogger('error', () => {});
