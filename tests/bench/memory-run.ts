/**
 * The memory check of the ingest benchmark: a large events NDJSON file ingested by the real
 * CLI (`functions/cli/main.ts ingest events FILE --data-dir D`) in a child process, whose
 * peak RSS is read from /proc/<pid>/status (VmHWM, the kernel's high-water mark), polled.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type StoreHandle } from './bench-stack';
import { statusBytes } from './proc-status';

export interface MemoryResult {
  rows: number;
  fileBytes: number;
  seconds: number;
  /** Peak resident set of the CLI process, in bytes. */
  peakRssBytes: number;
  /** Peak resident set of the store process while the CLI ran, when the CLI used a running store. */
  storePeakRssBytes?: number;
  /** 'own': the CLI opened the data dir itself (stores in its process); 'running': it used the benchmark's store process. */
  storeMode: 'own' | 'running';
  stdout: string;
}

/**
 * Runs the CLI on `file`. With a running store (`store` given, a separate process), the data
 * dir gets the stack file `npm start` writes, so the CLI uses that store, as it does next to a
 * running local stack; without one, the CLI starts the embedded stores in its own process.
 */
export async function runCliMemory(file: string, rows: number, fileBytes: number, dataDir: string, store?: StoreHandle): Promise<MemoryResult> {
  mkdirSync(dataDir, { recursive: true });
  const running = store && store.pid !== process.pid ? store : undefined;
  if (running) {
    writeFileSync(join(dataDir, 'stack.json'), JSON.stringify({ pid: running.pid, dynamoEndpoint: running.dynamoEndpoint, s3Endpoint: running.s3Endpoint }, null, 2));
  }
  const started = performance.now();
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', 'functions/cli/main.ts', 'ingest', 'events', file, '--data-dir', dataDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start the CLI');
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  let peak = 0;
  let storePeak = 0;
  const storeRss0 = running ? (statusBytes(running.pid, 'VmRSS') ?? 0) : 0;
  const sample = (): void => {
    peak = Math.max(peak, statusBytes(pid, 'VmHWM') ?? 0, statusBytes(pid, 'VmRSS') ?? 0);
    if (running) storePeak = Math.max(storePeak, statusBytes(running.pid, 'VmRSS') ?? 0);
  };
  const timer = setInterval(sample, 100);
  const code = await new Promise<number | null>((resolve) => {
    // 'exit' fires before the pipes close; the last sample is taken while /proc may still answer.
    child.once('exit', (c) => {
      sample();
      resolve(c);
    });
  });
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`CLI exited with ${code}: ${stderr.slice(-2000)}`);
  const accepted = /accepted ([\d,]+)/.exec(stdout)?.[1]?.replaceAll(',', '');
  if (Number(accepted) !== rows) throw new Error(`CLI accepted ${accepted ?? '?'} of ${rows} rows: ${stdout}`);
  return {
    rows,
    fileBytes,
    seconds,
    peakRssBytes: peak,
    ...(running ? { storePeakRssBytes: Math.max(storePeak, storeRss0) } : {}),
    storeMode: running ? 'running' : 'own',
    stdout: stdout.trim(),
  };
}
