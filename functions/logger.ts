import { AsyncLocalStorage } from 'node:async_hooks';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Field names whose values never reach a log line, whoever passes them. */
const SECRET_FIELDS = /authorization|api[-_]?key|secret|password|token|^key$/i;

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;

/** Nested plain objects are scrubbed too (a headers map, a job's params), a few levels deep. */
function scrub(fields: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (SECRET_FIELDS.test(k)) out[k] = '[redacted]';
    else if (v instanceof Error) out[k] = { name: v.name, message: v.message, stack: v.stack };
    else if (isPlainObject(v) && depth < 4) out[k] = scrub(v, depth + 1);
    else out[k] = v;
  }
  return out;
}

const logContext = new AsyncLocalStorage<Record<string, unknown>>();

/**
 * Runs fn with fields (e.g. the Lambda request id) added to every line logged inside it, by any
 * logger, across awaits: a handler sets them once and the code it calls logs as usual.
 */
export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...fields }, fn);
}

/** Structured JSON lines on stdout (CloudWatch reads them as-is). */
export function createLogger(level: LogLevel = 'info', base: Record<string, unknown> = {}, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const emit = (lvl: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (LOG_LEVELS.indexOf(lvl) < threshold) return;
    const context = logContext.getStore();
    write(JSON.stringify({ time: new Date().toISOString(), level: lvl, message, ...base, ...(context ? scrub(context) : {}), ...(fields ? scrub(fields) : {}) }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}
