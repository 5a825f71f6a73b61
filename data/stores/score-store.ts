export type RiskBand = 'low' | 'medium' | 'high';

export interface Driver {
  feature: string;
  /** Worded for a person: "Portal logins, last 30 days: 2 — peers' median 14". */
  label: string;
  value: number;
  peerMedian: number;
  /** How much this feature moves the probability against the peers' median: p(actual) − p(with the median), in probability points. */
  effect: number;
}

export interface ScoreDetail {
  probability: number;
  riskBand: RiskBand;
  modelVersion: string;
  drivers: Driver[];
}

/** One partner's scores in one run (one run per asOf). */
export interface ScoreRecord {
  partnerId: string;
  asOf: string;
  runId: string;
  name: string;
  tier: string;
  region: string;
  segment: string;
  churn: ScoreDetail;
  topPerformer: ScoreDetail | null;
  /** Churn probability minus the partner's in the previous run; null when it was not scored then. */
  change: number | null;
  scoredAt: string;
}

export interface RunRecord {
  runId: string;
  asOf: string;
  status: 'running' | 'complete';
  startedAt: string;
  completedAt?: string;
  scored?: number;
  models: { churn: string; topPerformer?: string };
  jobId?: string;
  /** Shards the run is split into (parallel-scan segments of the partners). */
  shards?: number;
  /** Shards done so far, by shard number, with how many partners each scored (set `{}` when a run starts). */
  shardScored?: Record<string, number>;
}

/** What recording a shard did: the run it left, and whether this call completed the run. */
export interface ShardRecorded {
  /** 'superseded': the run was restarted (another startedAt) or is gone; nothing was recorded. */
  outcome: 'recorded' | 'completed' | 'superseded';
  run?: RunRecord;
}

export interface ChurnRiskFilter {
  tier?: string;
  region?: string;
  segment?: string;
  minProbability?: number;
}

export interface ScoreStore {
  putRun(run: RunRecord): Promise<void>;
  /**
   * Records shard `shard` of the attempt of `run` (asOf + startedAt) as done with `scored`
   * partners; recording it again stores the same entry, never a second one. When every shard
   * is recorded, marks the run complete (scored = the shards' sum, completedAt = `now`): exactly
   * one caller gets 'completed'.
   */
  recordShard(run: { asOf: string; startedAt: string }, shard: number, scored: number, now: string): Promise<ShardRecorded>;
  /** Runs, newest asOf first. */
  listRuns(): Promise<RunRecord[]>;
  putScores(scores: readonly ScoreRecord[]): Promise<void>;
  /** Removes every score of a run (a re-run starts from nothing, so it ends as a clean run would). */
  deleteRunScores(runId: string): Promise<number>;
  /** These partners' scores in the run as of `asOf` (one batch read per 100 partners). */
  getScores(partnerIds: readonly string[], asOf: string): Promise<Map<string, ScoreRecord>>;
  /** A partner's scores, newest asOf first. */
  partnerScores(partnerId: string, limit: number): Promise<ScoreRecord[]>;
  /** One page of a run, highest churn probability first; the cursor pins the run. */
  rankedPage(runId: string, filter: ChurnRiskFilter, limit: number, cursor?: string): Promise<{ items: ScoreRecord[]; nextCursor?: string }>;
}
