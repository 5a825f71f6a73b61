import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../helpers/free-port';

/**
 * The server bench:load measures: `npm start` in a child process, with V8's GC trace on so the
 * live heap after every full collection can be read off its output. RSS alone cannot tell a
 * leak from V8 growing its heap towards a steady size; the heap left after a mark-compact can.
 */
export interface LoadServer {
  child: ChildProcess;
  url: string;
  setupSeconds: number;
  /** Everything the server printed except its GC trace. */
  output: () => string;
  /** Full collections so far: when the line arrived (performance.now()) and the heap left. */
  fullGcs: FullGc[];
  exited: Promise<void>;
}

export interface FullGc {
  at: number;
  isolate: string;
  liveBytes: number;
}

// [pid:0xisolate]  1234 ms: Mark-Compact 255.7 (288.6) -> 100.2 (239.8) MB, ...
const GC_LINE = /^\[\d+:(0x[0-9a-f]+)\]\s+[\d.]+ ms: (\S+)(?: \([a-z ]+\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/;

export async function startLoadServer(options: { root: string; dataDir: string; partners: number; nodeArgs: string[]; timeoutMs: number; say: (line: string) => void }): Promise<LoadServer> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [...options.nodeArgs, '--trace-gc', '--openssl-legacy-provider', '--import', 'tsx', 'functions/local/start.ts', '--port', String(port), '--data-dir', options.dataDir], {
    cwd: options.root,
    env: { ...process.env, DEMO_PARTNERS: String(options.partners), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let partial = '';
  const fullGcs: FullGc[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const gc = GC_LINE.exec(line);
      if (gc) {
        if (gc[2] === 'Mark-Compact') fullGcs.push({ at: performance.now(), isolate: gc[1]!, liveBytes: Number(gc[3]) * 2 ** 20 });
        continue;
      }
      out += `${line}\n`;
      if (line.trim() && !line.startsWith('{') && !/key:|psk_/.test(line)) options.say(`  stack: ${line.trim()}`);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the stack was not ready within ${options.timeoutMs / 60_000} min`)), options.timeoutMs);
    child.stdout!.on('data', () => {
      if (/listening on http:\/\//.test(out)) {
        clearTimeout(timer);
        done(`http://127.0.0.1:${port}`);
      }
    });
    void exited.then(() => fail(new Error(`the stack exited before it was ready:\n${out.slice(-3000)}`)));
  });
  return { child, url, setupSeconds: (performance.now() - started) / 1000, output: () => out, fullGcs, exited };
}

export async function stopLoadServer(server: LoadServer): Promise<void> {
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
  await server.exited;
  clearTimeout(timer);
}

/**
 * The main thread's full collections between two instants. Worker threads (the TypeScript
 * loader's) trace too, under another isolate: the main isolate is the one with the largest heap.
 */
export function mainThreadGcs(gcs: readonly FullGc[], from: number, to: number): FullGc[] {
  const peak = new Map<string, number>();
  for (const gc of gcs) peak.set(gc.isolate, Math.max(peak.get(gc.isolate) ?? 0, gc.liveBytes));
  const main = [...peak].sort((a, b) => b[1] - a[1])[0]?.[0];
  return gcs.filter((gc) => gc.isolate === main && gc.at >= from && gc.at <= to);
}
