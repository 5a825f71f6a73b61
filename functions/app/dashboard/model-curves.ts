/**
 * The holdout curves of a model version. Training stores them with the version's artifacts
 * (metadata.json → evaluation.curves: the ROC curve, thinned to ≤ 101 points, and 10 reliability
 * bins; models/train/evaluate.ts); the registry record points at the artifacts. Artifacts never
 * change once written, so each version's curves are read once per process.
 */
import { z } from 'zod';
import type { ObjectStore } from '../../../data/stores/object-store';
import type { ReliabilityBin, RocPoint } from './charts';

const curvesSchema = z.object({
  evaluation: z.object({
    curves: z.object({
      roc: z.array(z.object({ fpr: z.number(), tpr: z.number() })),
      reliability: z.array(z.object({ lower: z.number(), upper: z.number(), count: z.number(), meanPredicted: z.number().nullable(), observedRate: z.number().nullable() })),
    }),
  }),
});

export interface ModelCurves {
  roc: RocPoint[];
  reliability: ReliabilityBin[];
}

const cache = new Map<string, Promise<ModelCurves | null>>();

/** The curves saved with a version, or null when its artifacts hold none (or cannot be read as such). */
export function modelCurves(objects: ObjectStore, artifactPrefix: string): Promise<ModelCurves | null> {
  let entry = cache.get(artifactPrefix);
  if (!entry) {
    entry = objects.getText(`${artifactPrefix}metadata.json`).then((text) => {
      if (!text) return null;
      const parsed = curvesSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data.evaluation.curves : null;
    });
    // A failed read is retried next time; only a definite answer is kept.
    entry.catch(() => cache.delete(artifactPrefix));
    if (cache.size > 32) cache.delete(cache.keys().next().value as string);
    cache.set(artifactPrefix, entry);
  }
  return entry;
}
