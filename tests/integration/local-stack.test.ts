import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../functions/cli/main';
import { freePort } from '../helpers/free-port';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const READY_TIMEOUT_MS = 45_000;
const STOP_TIMEOUT_MS = 5_000;

interface Server {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start -- --port P --data-dir D --no-demo`, as the package script runs it; resolves at its ready line. */
async function startServer(dataDir: string, port: number, env: NodeJS.ProcessEnv): Promise<Server> {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', 'functions/local/start.ts', '--port', String(port), '--data-dir', dataDir, '--no-demo'], {
    cwd: ROOT,
    env: { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const output = (): string => `--- stdout\n${stdout}\n--- stderr\n${stderr}`;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on http://" line within ${READY_TIMEOUT_MS} ms\n${output()}`)), READY_TIMEOUT_MS);
    const check = (): void => {
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (!m?.[1]) return;
      clearTimeout(timer);
      resolve(m[1]);
    };
    child.stdout?.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? signal}) before it was ready\n${output()}`));
    });
  });
  return { child, url, output, exited };
}

/** Sends a signal and waits (bounded) for the exit. */
async function stopServer(server: Server, signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  const started = Date.now();
  server.child.kill(signal);
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running ${STOP_TIMEOUT_MS} ms after ${signal}\n${server.output()}`)), STOP_TIMEOUT_MS).unref());
  const result = await Promise.race([server.exited, timeout]);
  return { ...result, ms: Date.now() - started };
}

describe('local stack (npm start) as a process', () => {
  const adminSecret = `test-admin-${randomBytes(24).toString('hex')}`;
  const partner = { partnerId: 'LS-P-1', name: 'Local, "Stack" Ltd', tier: 'gold', region: 'NA', segment: 'SMB', joinedAt: '2024-01-01', status: 'active' };
  let dataDir: string;
  let filesDir: string;
  let first: Server | undefined;
  let second: Server | undefined;
  let opsKey: { id: string; key: string };

  const call = async (server: Server, method: string, path: string, key?: string, body?: unknown): Promise<Response> =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ps-local-stack-'));
    filesDir = mkdtempSync(join(tmpdir(), 'ps-local-files-'));
    writeFileSync(join(filesDir, 'partners.ndjson'), `${JSON.stringify({ ...partner, partnerId: 'LS-P-2', name: 'Via CLI' })}\n`);
  });
  afterAll(() => {
    for (const s of [first, second]) if (s && s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    for (const d of [dataDir, filesDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('starts on the given port, says where it listens, serves /health and ingest with the ADMIN_API_KEY secret', async () => {
    const port = await freePort();
    const { ADMIN_API_KEY: _ignored, ...env } = process.env;
    first = await startServer(dataDir, port, { ...env, ADMIN_API_KEY: adminSecret });
    expect(first.url).toBe(`http://localhost:${port}`);
    // --no-demo: nothing generated, so no demo keys printed.
    expect(first.output()).not.toMatch(/demo|partner key:/);

    const health = await call(first, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });

    expect((await call(first, 'POST', '/v1/partners', undefined, [partner])).status).toBe(401);
    expect((await call(first, 'POST', '/v1/partners', 'not-the-admin-secret', [partner])).status).toBe(401);
    const ingest = await call(first, 'POST', '/v1/partners', adminSecret, [partner]);
    expect(ingest.status).toBe(200);
    expect(await ingest.json()).toEqual({ accepted: 1, unchanged: 0, rejected: [] });

    const created = await call(first, 'POST', '/v1/api-keys', adminSecret, { name: 'ops for restart test', role: 'ops' });
    expect(created.status).toBe(201);
    opsKey = (await created.json()) as { id: string; key: string };
    expect(opsKey.key).toEqual(expect.any(String));

    // While it runs, it tells the CLI where its stores are.
    const stackFile = JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { pid: number; url: string };
    expect(stackFile).toMatchObject({ pid: first.child.pid, url: first.url });
  });

  it('the CLI on the same data dir uses the running stack’s stores', async () => {
    const lines: string[] = [];
    const code = await runCli(['ingest', 'partners', join(filesDir, 'partners.ndjson'), '--data-dir', dataDir], (l) => lines.push(l));
    expect(code).toBe(0);
    expect(lines[1]).toBe('  accepted 1, unchanged 0, rejected 0');
    // The server sees what the CLI stored.
    const resend = await call(first!, 'POST', '/v1/partners', adminSecret, [{ ...partner, partnerId: 'LS-P-2', name: 'Via CLI' }]);
    expect(await resend.json()).toEqual({ accepted: 0, unchanged: 1, rejected: [] });
  });

  it('SIGTERM shuts it down cleanly: exit code 0 within a few seconds, stack file removed', async () => {
    const stopped = await stopServer(first!, 'SIGTERM');
    expect(stopped).toMatchObject({ code: 0, signal: null });
    expect(stopped.ms).toBeLessThan(STOP_TIMEOUT_MS);
    expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);
    await expect(fetch(`${first!.url}/health`)).rejects.toThrow();
  });

  it('a second start on the same data dir serves what was stored, and the admin key persisted', async () => {
    const port = await freePort();
    // Without ADMIN_API_KEY this time: the admin key must come from the store, not the environment.
    const { ADMIN_API_KEY: _ignored, ...env } = process.env;
    second = await startServer(dataDir, port, env);
    expect(second.url).toBe(`http://localhost:${port}`);
    expect((await call(second, 'GET', '/health')).status).toBe(200);

    const again = await call(second, 'POST', '/v1/partners', adminSecret, [partner, { ...partner, partnerId: 'LS-P-2', name: 'Via CLI' }]);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ accepted: 0, unchanged: 2, rejected: [] });

    const keys = await call(second, 'GET', '/v1/api-keys', adminSecret);
    expect(keys.status).toBe(200);
    const { items } = (await keys.json()) as { items: { id: string; role: string }[] };
    expect(items.filter((k) => k.role === 'admin')).toHaveLength(1);
    expect(items.find((k) => k.id === opsKey.id)).toMatchObject({ role: 'ops' });
    expect(JSON.stringify(items)).not.toContain(adminSecret);

    // The ops key created over HTTP before the restart is known (403, not 401) and can ingest.
    expect((await call(second, 'GET', '/v1/api-keys', opsKey.key)).status).toBe(403);
    const asOps = await call(second, 'POST', '/v1/partners', opsKey.key, [partner]);
    expect(await asOps.json()).toEqual({ accepted: 0, unchanged: 1, rejected: [] });

    const stopped = await stopServer(second, 'SIGINT');
    expect(stopped).toMatchObject({ code: 0, signal: null });
  });
});
