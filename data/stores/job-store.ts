export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface JobRecord {
  jobId: string;
  type: 'train' | 'score';
  params: Record<string, unknown>;
  status: JobStatus;
  createdAt: string;
  requestedBy?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Progress for people watching (e.g. "epoch 7/30"). */
  progress?: string;
  result?: unknown;
  error?: string;
}

export interface JobStore {
  create(job: JobRecord): Promise<void>;
  get(jobId: string): Promise<JobRecord | undefined>;
  /** queued → running; false if the job is not queued (another worker took it, or it finished). */
  start(jobId: string, at: string): Promise<boolean>;
  progress(jobId: string, progress: string): Promise<void>;
  /** Jobs still queued or running (a small scan: jobs are few). */
  listUnfinished(): Promise<JobRecord[]>;
  finish(jobId: string, outcome: { status: 'succeeded'; result: unknown } | { status: 'failed'; error: string }, at: string): Promise<void>;
}
