import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { generateProgram } from '../../data/generator';
import type { RawRecord } from '../../data/ingest/ingest-batch';
import { ingestStream } from '../../data/ingest/ingest-stream';
import type { RecordKindName } from '../../data/stores/record-store';
import { partnerBenchmark } from '../../functions/app/routes/partner-benchmarks';
import { startTestStack, type TestStack } from '../helpers/test-stack';

/*
 * A small partner program behind the real app on a real port, for the dashboard tests: a generated
 * program ending today, both models trained (top-performer twice, so there is a version to promote) and
 * three scoring runs a month apart (history and change), all through the public API.
 */

export interface DashboardFixture {
  stack: TestStack;
  url: string;
  keys: { admin: string; ops: string; integration: string; partner: string };
  /** The partner the partner key belongs to (active, with a benchmark cohort). */
  partnerId: string;
  /** Another active partner. */
  otherPartnerId: string;
  /** asOf of the scoring runs, oldest first. */
  runs: string[];
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;

async function* asRecords(values: readonly unknown[]): AsyncGenerator<RawRecord> {
  for (let index = 0; index < values.length; index++) yield { index, raw: JSON.stringify(values[index]), value: values[index] };
}

export async function startDashboardFixture(options: { partners?: number; seed?: number } = {}): Promise<DashboardFixture> {
  const stack = await startTestStack();
  // Seed 16: in a program this small, the top-performer holdouts as of today and of a month ago both hold positives (some seeds' do not).
  const program = generateProgram({ partners: options.partners ?? 100, seed: options.seed ?? 16, years: 2, directDealsPerMonth: 6 });
  // Logins and content views are most of the events and most of the ingest time: 1 in 25 is kept.
  let kept = 0;
  const events = program.events.filter((e) => (e.type !== 'portal_login' && e.type !== 'content_view') || kept++ % 25 === 0);
  const lastVersion = new Map(program.deals.map((d) => [d.dealId, d]));
  const deals = program.deals.filter((d) => lastVersion.get(d.dealId) === d);
  const ingest = async (kind: RecordKindName, values: readonly unknown[]): Promise<void> => {
    const summary = await ingestStream(kind, asRecords(values), stack.deps, { source: 'test', batchSize: 1000, lanes: 4 });
    if (summary.rejected > 0 || summary.accepted !== values.length) throw new Error(`${kind}: ${summary.accepted}/${values.length} accepted`);
  };
  await ingest('partners', program.partners);
  await ingest('events', events);
  await ingest('deals', deals);

  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await stack.request(method, path, { key: stack.adminKey, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  const job = async (path: string, body: unknown): Promise<void> => {
    const { jobId } = await api<{ jobId: string }>('POST', path, body);
    for (const deadline = Date.now() + 90_000; ; ) {
      const j = await api<{ status: string; error?: string }>('GET', `/v1/jobs/${jobId}`);
      if (j.status === 'succeeded') return;
      if (j.status === 'failed') throw new Error(`${path}: ${j.error}`);
      if (Date.now() > deadline) throw new Error(`${path}: still ${j.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const now = Date.now();
  const asOf = new Date(now).toISOString();
  await job('/v1/models/churn/train', { asOf });
  await job('/v1/models/top-performer/train', { asOf });
  // A second top-performer version, as of a month earlier: a version to promote (or roll back to).
  await job('/v1/models/top-performer/train', { asOf: new Date(now - 30 * DAY_MS).toISOString() });
  const runs = [60, 30, 0].map((d) => new Date(now - d * DAY_MS).toISOString());
  for (const run of runs) await job('/v1/scoring/runs', { asOf: run });

  const active = program.partners.filter((p) => p.status === 'active' && p.joinedAt < asOf.slice(0, 10));
  let partnerId: string | undefined;
  for (const p of active) {
    const b = await partnerBenchmark(stack.deps, p.partnerId);
    if (b.cohort) {
      partnerId = p.partnerId;
      break;
    }
  }
  if (!partnerId) throw new Error('no active partner has a benchmark cohort');
  const otherPartnerId = active.find((p) => p.partnerId !== partnerId)!.partnerId;

  const [ops, integration, partner] = await Promise.all([stack.keyFor('ops'), stack.keyFor('integration'), stack.keyFor('partner', partnerId)]);
  const server = serve({ fetch: stack.app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    stack,
    url,
    keys: { admin: stack.adminKey, ops, integration, partner },
    partnerId,
    otherPartnerId,
    runs,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await stack.close();
    },
  };
}
