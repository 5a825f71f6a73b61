/**
 * A scoring run, or one shard of a planned run, in a process of its own, so that a test can
 * kill it (SIGKILL) in the middle: `node --import tsx tests/faults/scoring-child.ts JOB_JSON`.
 * It uses the real stores (the test process's embedded DynamoDB and S3); its score store
 * writes each page in slices of `sliceSize` and prints `wrote N` after each, so the test knows
 * when part of the run is stored. Prints `done` at the end.
 */
import { createAwsClients } from '../../data/stores/aws-clients';
import { DynamoHistoryStore } from '../../data/stores/dynamo-history-store';
import { DynamoModelStore } from '../../data/stores/dynamo-model-store';
import { DynamoScoreStore } from '../../data/stores/dynamo-score-store';
import { S3ObjectStore } from '../../data/stores/s3-object-store';
import type { ScoreRecord, ScoreStore } from '../../data/stores/score-store';
import type { TableNames } from '../../data/stores/tables';
import { ModelCache } from '../../models/artifact-store';
import { DEFAULT_BANDS } from '../../models/risk-bands';
import { runScoring, runScoringShard, type ScoringDeps, type ScoringRunPlan } from '../../models/scoring-run';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface ScoringChildJob {
  dynamoEndpoint: string;
  s3Endpoint: string;
  tables: TableNames;
  bucket: string;
  /** The scores table this run writes (the test keeps runs apart by table). */
  scoresTable: string;
  asOf: string;
  shards: number;
  sliceSize: number;
  /** With a plan and a shard, runs that shard only (runScoringShard); otherwise the whole run (runScoring). */
  plan?: ScoringRunPlan;
  shard?: number;
}

/** The real score store, with each putScores written in slices, each reported on stdout once stored. */
function slicedWrites(real: ScoreStore, sliceSize: number): ScoreStore {
  const putScores = async (scores: readonly ScoreRecord[]): Promise<void> => {
    for (let at = 0; at < scores.length; at += sliceSize) {
      const slice = scores.slice(at, at + sliceSize);
      await real.putScores(slice);
      process.stdout.write(`wrote ${slice.length}\n`);
    }
  };
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'putScores') return putScores;
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as ScoringChildJob;
  const clients = createAwsClients({ region: 'us-east-1', dynamoEndpoint: job.dynamoEndpoint, s3Endpoint: job.s3Endpoint });
  const deps: ScoringDeps = {
    history: new DynamoHistoryStore(clients.ddb, job.tables),
    models: new DynamoModelStore(clients.ddb, job.tables.models),
    scores: slicedWrites(new DynamoScoreStore(clients.ddb, job.scoresTable), job.sliceSize),
    modelCache: new ModelCache(new S3ObjectStore(clients.s3, job.bucket)),
    bands: DEFAULT_BANDS,
    log: () => undefined,
  };
  if (job.plan && job.shard !== undefined) await runScoringShard(deps, job.plan, job.shard);
  else await runScoring(deps, { asOf: job.asOf, shards: job.shards });
  process.stdout.write('done\n');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`scoring child failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
