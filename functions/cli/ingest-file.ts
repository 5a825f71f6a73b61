import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Transform } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ingestStream, recordsOf, type StreamIngestSummary } from '../../data/ingest/ingest-stream';
import type { IngestDeps } from '../../data/ingest/ingest-batch';
import { formatFromName, type RecordFormat } from '../../data/ingest/parse';
import type { RecordKindName } from '../../data/stores/record-store';

export interface FileIngestOptions {
  format?: RecordFormat;
  batchSize?: number;
  lanes?: number;
  onProgress?: (bytesRead: number, totalBytes: number, summary: Omit<StreamIngestSummary, 'rejectedSample'>) => void;
  /**
   * Bound the old generation's growth while the file is ingested (see boundHeapGrowth). A
   * process-wide V8 setting, so only the CLI, which owns its process, asks for it: a server
   * that ingests a file next to its other work keeps V8's own heuristics.
   */
  boundHeap?: boolean;
}

/**
 * V8 lets the old generation grow to up to 4× the heap that survived the last full GC before it
 * collects again. A long file ingest promotes steadily (batches and store requests in flight,
 * and the embedded stores' own work when they run in this process), so with ~80 MB live a
 * 1,000,000-row file took the CLI to 500–570 MB RSS, nearly all of it garbage. While files are
 * being ingested the old generation may grow by half instead (a few more short full GCs; peak
 * ~370 MB on that file). Left alone when the process was started with its own heap settings.
 *
 * The bound applies from the next full GC on, and the limit in force was set by the last one
 * under the default factor: started right after the stores (~56 MB live), it let the heap reach
 * ~230 MB before the first collection, the whole run's peak (~400 MB RSS). So one full GC is
 * run as the bound is set.
 */
const HEAP_GROWING_PERCENT = 50;
let boundedIngests = 0;

/**
 * Two lanes (each with up to 4 store requests in flight) keep the stores busy, in process or
 * remote; four held twice as many batches and requests in flight, so more of them outlived
 * young-generation GCs and were promoted: more full GCs and ~8% more CPU a row for no speed.
 */
const FILE_LANES = 2;

function boundHeapGrowth(): () => void {
  const given = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
  if (/--(max[-_]old[-_]space[-_]size|heap[-_]growing[-_]percent)\b/.test(given)) return () => undefined;
  if (boundedIngests++ === 0) {
    setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    collectGarbage();
  }
  return () => {
    if (--boundedIngests === 0) setFlagsFromString('--heap-growing-percent=0');
  };
}

/** A full GC without starting Node.js with --expose-gc: the flag, set now, exposes gc() to new contexts. */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/** Streams a CSV / NDJSON file into the stores with bounded memory. */
export async function ingestFile(kind: RecordKindName, file: string, deps: IngestDeps, options: FileIngestOptions = {}): Promise<StreamIngestSummary & { file: string; format: RecordFormat }> {
  const format = options.format ?? formatFromName(file) ?? 'ndjson';
  const totalBytes = statSync(file).size;
  let bytesRead = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytesRead += chunk.length;
      done(null, chunk);
    },
  });
  const stream = createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(counter);
  const release = options.boundHeap ? boundHeapGrowth() : () => undefined;
  try {
    const summary = await ingestStream(kind, recordsOf(stream, format, kind), deps, {
      source: `cli:${basename(file)}`,
      ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      lanes: options.lanes || FILE_LANES,
      onProgress: (p) => options.onProgress?.(bytesRead, totalBytes, p),
    });
    return { ...summary, file, format };
  } finally {
    release();
  }
}
