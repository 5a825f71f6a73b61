import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateProgram } from '../../data/generator';
import type { RawRecord } from '../../data/ingest/ingest-batch';
import { ingestStream } from '../../data/ingest/ingest-stream';
import type { RecordKindName } from '../../data/stores/record-store';
import type { ServiceDeps } from '../deps';

export interface DemoKeys {
  admin: string;
  ops: string;
  partner: string;
  partnerId: string;
}

async function* asRecords(values: readonly unknown[]): AsyncGenerator<RawRecord> {
  for (let index = 0; index < values.length; index++) {
    const value = values[index];
    yield { index, raw: JSON.stringify(value), value };
  }
}

/**
 * Loads the generated demo program through the same ingest path as every other input, and
 * creates demo keys. The keys are kept in <dataDir>/demo-keys.json (mode 600) so that each
 * start can print them: the data dir is already the trust boundary of a local stack, since it
 * holds every record in clear.
 */
export async function loadDemo(deps: ServiceDeps, dataDir: string, options: { partners: number; seed?: number }): Promise<{ keys: DemoKeys; counts: Record<RecordKindName, number> }> {
  const program = generateProgram({ partners: options.partners, seed: options.seed ?? 42 });
  const counts = { partners: program.partners.length, events: program.events.length, deals: program.deals.length };
  const ingest = async (kind: RecordKindName, values: readonly unknown[]): Promise<void> => {
    const summary = await ingestStream(kind, asRecords(values), deps, { source: 'demo', batchSize: 2_000, lanes: 4 });
    if (summary.rejected > 0) throw new Error(`demo ${kind}: ${summary.rejected} records rejected, e.g. ${JSON.stringify(summary.rejectedSample[0])}`);
  };
  await ingest('partners', program.partners);
  await ingest('events', program.events);
  await ingest('deals', program.deals);

  const partner = program.partners.find((p) => p.status === 'active') ?? program.partners[0];
  if (!partner) throw new Error('the demo program has no partners');
  const admin = await deps.apiKeys.create({ name: 'demo admin', role: 'admin' });
  const ops = await deps.apiKeys.create({ name: 'demo ops', role: 'ops' });
  const partnerKey = await deps.apiKeys.create({ name: `demo partner ${partner.partnerId}`, role: 'partner', partnerId: partner.partnerId });
  const keys: DemoKeys = { admin: admin.key, ops: ops.key, partner: partnerKey.key, partnerId: partner.partnerId };
  const path = join(dataDir, 'demo-keys.json');
  writeFileSync(path, JSON.stringify(keys, null, 2));
  chmodSync(path, 0o600);
  return { keys, counts };
}

export function readDemoKeys(dataDir: string): DemoKeys | undefined {
  const path = join(dataDir, 'demo-keys.json');
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as DemoKeys;
  } catch {
    return undefined;
  }
}
