import { serve } from '@hono/node-server';
import { createApp } from '../app/app';
import { MODEL_NAMES } from '../../models/types';
import { trainModelVersion } from '../../models/training-run';
import { runScoring } from '../../models/scoring-run';
import { currentChampion } from '../../models/registry';
import { ServiceError } from '../../data/errors';
import { recoverJobs } from '../jobs/recover-jobs';
import { loadDemo, readDemoKeys } from './demo';
import { loadLocalConfig } from './local-config';
import { openLocalStores, removeStackFile, writeStackFile } from './local-stack';

/**
 * `npm start`: the whole service on one machine. Embedded DynamoDB (dynalite) and S3
 * (s3rver) run in this process with their data under --data-dir; the Hono app is the one
 * that runs on Lambda.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  const config = loadLocalConfig(process.argv.slice(2));
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  const stores = await openLocalStores(config.dataDir, { logLevel: config.logLevel, ...(config.adminApiKey ? { adminApiKey: config.adminApiKey } : {}), reuseRunning: false, jobWorker: true });
  const { deps } = stores;

  if (config.adminApiKey) {
    const id = await deps.apiKeys.ensureAdminKey(config.adminApiKey);
    say(`admin key from ADMIN_API_KEY is active (id ${id})`);
  }

  if (config.demo && !(await deps.records.hasAny('partners'))) {
    say(`empty store: generating the demo program (${config.demoPartners} partners)…`);
    const started = performance.now();
    const { counts } = await loadDemo(deps, config.dataDir, { partners: config.demoPartners });
    say(`demo data loaded: ${counts.partners} partners, ${counts.events} events, ${counts.deals} deal records in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    // A churn version as of a quarter ago first, so the registry has a version to compare with and promote (dashboard: Models).
    const now = Date.now();
    const daysAgo = (days: number): string => new Date(now - days * 86_400_000).toISOString();
    for (const { model, asOf } of [{ model: 'churn' as const, asOf: daysAgo(90) }, ...MODEL_NAMES.map((model) => ({ model, asOf: daysAgo(0) }))]) {
      const t = performance.now();
      try {
        const result = await trainModelVersion({ history: deps.history, models: deps.models, objects: deps.objects, log: (message, fields) => deps.logger.debug(message, fields) }, { model, asOf });
        say(`trained ${model} ${result.version} as of ${asOf.slice(0, 10)} (${result.status}): holdout AUC ${result.metrics.auc.toFixed(3)}, baseline ${result.baselineMetrics.auc.toFixed(3)}, in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      } catch (error) {
        // A small demo program (DEMO_PARTNERS) can leave a holdout without positives: the
        // service still starts, and the model can be trained later through the API.
        if (!(error instanceof ServiceError)) throw error;
        say(`could not train ${model} as of ${asOf.slice(0, 10)}: ${error.message}`);
      }
    }
    const canScore = (await currentChampion(deps.models, 'churn')) !== undefined;
    if (!canScore) say('no churn champion: the demo starts without scores (train with POST /v1/models/churn/train, then POST /v1/scoring/runs)');
    // Three monthly runs, so that scores have a history and a change since the previous run.
    for (const asOf of canScore ? [daysAgo(60), daysAgo(30), daysAgo(0)] : []) {
      const t = performance.now();
      const run = await runScoring(
        { history: deps.history, models: deps.models, scores: deps.scores, modelCache: deps.modelCache, bands: deps.bands, log: (message, fields) => deps.logger.debug(message, fields) },
        { asOf },
      );
      say(`scored ${run.scored} active partners as of ${run.asOf} in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
  }

  const recovered = await recoverJobs(deps);
  if (recovered.failed + recovered.resubmitted > 0) say(`jobs: ${recovered.failed} interrupted by the last stop marked failed, ${recovered.resubmitted} queued resubmitted`);

  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, port: config.port, hostname: '0.0.0.0' }, (info) => {
    const url = `http://localhost:${info.port}`;
    writeStackFile(config.dataDir, { pid: process.pid, dynamoEndpoint: stores.embedded!.dynamoEndpoint, s3Endpoint: stores.embedded!.s3Endpoint, url });
    const keys = config.demo ? readDemoKeys(config.dataDir) : undefined;
    if (keys) {
      say(`admin key:   ${keys.admin}`);
      say(`ops key:     ${keys.ops}`);
      say(`partner key: ${keys.partner}  (partner ${keys.partnerId})`);
      say(`dashboard:   ${url}/ (sign in with one of these keys)`);
      say(`try: curl -H "Authorization: Bearer ${keys.admin}" ${url}/v1/api-keys`);
    }
    say(`data in ${config.dataDir}; API reference at ${url}/docs`);
    say(`listening on ${url}`);
  });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: shutting down`);
    server.close(() => {
      removeStackFile(config.dataDir);
      stores.close().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
    // Idle keep-alive connections would hold close() open.
    (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
