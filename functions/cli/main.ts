import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getRejectBatch, isRecordKind, listRejectBatches, replayRejectBatch } from '../../data/ingest/rejects';
import { createApiKeySchema } from '../../data/schemas/api-key';
import { parseWith } from '../../data/schemas/common';
import { loadConfig } from '../config';
import { createDeps, type ServiceDeps } from '../deps';
import { openLocalStores } from '../local/local-stack';
import { ingestFile } from './ingest-file';
import { createProgress, createStatusLine } from './progress';
import { metricsTable } from './metrics-table';
import { asOfInstant } from '../../data/schemas/as-of';
import { trainModelVersion } from '../../models/training-run';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `usage: npm run cli -- <command> [options]

  ingest <partners|events|deals> FILE [--format csv|ndjson|json]
                                  stream a CSV (header row) or NDJSON file into the stores
  rejects list [--kind K]         batches of rejected records
  rejects show ID                 one batch, as NDJSON (fix it, then ingest it)
  rejects replay ID               ingest a batch of rejected records again
  train <churn|top-performer> [--as-of DATE] [--horizon-days N]
                                  train a model version; prints epochs and the holdout metrics
  keys create --role R --name N [--partner-id P]
                                  create an API key (prints the secret once)

options: --data-dir D (local stack data, default ./.data)
Locally the CLI uses the running stack's stores, or opens the data dir itself.
With BUCKET_NAME and TABLE_PREFIX (or TABLE_*) set, it talks to AWS instead.`;

const num = new Intl.NumberFormat('en-US');

async function withDeps<T>(dataDir: string, fn: (deps: ServiceDeps) => Promise<T>): Promise<T> {
  if (process.env.BUCKET_NAME) {
    const deps = createDeps(loadConfig());
    return fn(deps);
  }
  const stores = await openLocalStores(dataDir, { logLevel: 'warn' });
  try {
    return await fn(stores.deps);
  } finally {
    await stores.close();
  }
}

export async function runCli(argv: string[], out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      format: { type: 'string' },
      kind: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      'partner-id': { type: 'string' },
      'as-of': { type: 'string' },
      'horizon-days': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const dataDir = resolve(values['data-dir'] ?? process.env.DATA_DIR ?? '.data');
  const [command, sub, arg] = positionals;

  if (values.help || !command) {
    out(USAGE);
    return command ? 0 : 2;
  }

  if (command === 'ingest') {
    if (!sub || !isRecordKind(sub) || !arg) {
      out(USAGE);
      return 2;
    }
    const format = values.format;
    if (format !== undefined && format !== 'csv' && format !== 'ndjson' && format !== 'json') throw new Error('--format must be csv, ndjson or json');
    const file = resolve(arg);
    return withDeps(dataDir, async (deps) => {
      const started = performance.now();
      const progress = createProgress(1);
      const summary = await ingestFile(sub, file, deps, {
        ...(format ? { format } : {}),
        boundHeap: true,
        onProgress: (bytes, total, s) => {
          const secs = (performance.now() - started) / 1000;
          progress.update(total > 0 ? bytes / total : 1, `${num.format(s.records)} records, ${num.format(Math.round(s.records / Math.max(secs, 0.001)))}/s`);
        },
      });
      progress.finish();
      const secs = (performance.now() - started) / 1000;
      out(`${sub} from ${arg} (${summary.format}): ${num.format(summary.records)} records in ${secs.toFixed(1)} s`);
      out(`  accepted ${num.format(summary.accepted)}, unchanged ${num.format(summary.unchanged)}, rejected ${num.format(summary.rejected)}`);
      for (const r of summary.rejectedSample.slice(0, 10)) {
        out(`  record ${r.index}${r.id ? ` (${r.id})` : ''}: ${r.errors.map((e) => `${e.path || '(record)'} ${e.message}`).join('; ')}`);
      }
      if (summary.rejected > 0) out('  all rejected records are kept: npm run cli -- rejects list');
      return 0;
    });
  }

  if (command === 'rejects') {
    return withDeps(dataDir, async (deps) => {
      if (sub === 'list') {
        const kind = values.kind;
        if (kind !== undefined && !isRecordKind(kind)) throw new Error('--kind must be partners, events or deals');
        let cursor: string | undefined;
        do {
          const page = await listRejectBatches(deps.objects, { ...(kind ? { kind } : {}), ...(cursor ? { cursor } : {}), limit: 500 });
          for (const b of page.items) out(`${b.id}\t${b.storedAt}\t${b.size} bytes`);
          cursor = page.nextCursor;
        } while (cursor);
        return 0;
      }
      if (sub === 'show' && arg) {
        const batch = await getRejectBatch(deps.objects, arg);
        for (const e of batch.entries) out(e.record);
        return 0;
      }
      if (sub === 'replay' && arg) {
        const result = await replayRejectBatch(deps, arg);
        out(`replayed ${arg}: accepted ${result.accepted}, unchanged ${result.unchanged}, rejected ${result.rejected.length}`);
        return 0;
      }
      out(USAGE);
      return 2;
    });
  }

  if (command === 'train') {
    if (sub !== 'churn' && sub !== 'top-performer') {
      out(USAGE);
      return 2;
    }
    const asOf = values['as-of'] === undefined ? new Date().toISOString() : asOfInstant(values['as-of']);
    if (!asOf) throw new Error('--as-of must be a date (2025-03-01) or a date-time with a time zone');
    const horizonDays = values['horizon-days'] === undefined ? undefined : Number(values['horizon-days']);
    if (horizonDays !== undefined && (!Number.isInteger(horizonDays) || horizonDays < 7 || horizonDays > 365)) throw new Error('--horizon-days must be a whole number from 7 to 365');
    return withDeps(dataDir, async (deps) => {
      const status = createStatusLine();
      const result = await trainModelVersion(
        { history: deps.history, models: deps.models, objects: deps.objects, log: () => undefined },
        { model: sub, asOf, ...(horizonDays ? { horizonDays } : {}), onProgress: (line) => status.update(`${sub}: ${line}`) },
      );
      status.finish();
      for (const line of metricsTable(result)) out(line);
      return 0;
    });
  }

  if (command === 'keys' && sub === 'create') {
    const parsed = parseWith(createApiKeySchema, { role: values.role, name: values.name, ...(values['partner-id'] ? { partnerId: values['partner-id'] } : {}) });
    if (!parsed.ok) {
      out(`keys create: ${parsed.errors.map((e) => `--${e.path.replace('partnerId', 'partner-id')} ${e.message}`).join('; ')}`);
      return 2;
    }
    return withDeps(dataDir, async (deps) => {
      const { id, key } = await deps.apiKeys.create(parsed.value);
      out(`created ${parsed.value.role} key ${id}; the secret is shown only now:`);
      out(key);
      return 0;
    });
  }

  out(USAGE);
  return 2;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('functions/cli/main.ts')) {
  runCli(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
