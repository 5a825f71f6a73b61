export const MODEL_STATUSES = ['champion', 'challenger', 'retired'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

export interface HoldoutMetrics {
  auc: number;
  prAuc: number;
  brier: number;
  ece: number;
  rows: number;
  positives: number;
}

/** One trained version of a model, as kept in the registry (artifacts live in the object store). */
export interface ModelVersionRecord {
  model: string;
  version: string;
  createdAt: string;
  asOf: string;
  status: ModelStatus;
  /** When it last became champion: with no transactions, the latest promotion wins if two ever claim it. */
  promotedAt?: string;
  metrics: HoldoutMetrics;
  baselineMetrics: HoldoutMetrics;
  aucByTier: Record<string, number | null>;
  artifactPrefix: string;
  backend: string;
  seed: number;
  horizonDays?: number;
  dataWindow: { from: string; to: string; holdoutFrom: string };
  featureNames: string[];
  /** How this version compared with the champion of its day on the same holdout. */
  comparedWith?: { version: string; auc: number } | null;
  jobId?: string;
}

export interface ModelStore {
  put(record: ModelVersionRecord): Promise<void>;
  get(model: string, version: string): Promise<ModelVersionRecord | undefined>;
  list(model?: string): Promise<ModelVersionRecord[]>;
  setStatus(model: string, version: string, status: ModelStatus, promotedAt?: string): Promise<void>;
}
