import type { TrainResult } from '../../models/training-run';

const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '–');

/** The holdout metrics of a training run, the model next to its baseline, as aligned text. */
export function metricsTable(result: TrainResult): string[] {
  const rows: [string, string, string][] = [
    ['AUC', f(result.metrics.auc), f(result.baselineMetrics.auc)],
    ['PR-AUC', f(result.metrics.prAuc), f(result.baselineMetrics.prAuc)],
    ['Brier', f(result.metrics.brier), f(result.baselineMetrics.brier)],
    ['ECE', f(result.metrics.ece), f(result.baselineMetrics.ece)],
    ['rows', String(result.metrics.rows), String(result.baselineMetrics.rows)],
    ['positives', String(result.metrics.positives), String(result.baselineMetrics.positives)],
  ];
  const lines = [
    `${result.model} ${result.version}: ${result.status} (backend ${result.backend})`,
    `${'holdout'.padEnd(10)} ${'model'.padStart(8)} ${'baseline'.padStart(9)}`,
    ...rows.map(([name, m, b]) => `${name.padEnd(10)} ${m.padStart(8)} ${b.padStart(9)}`),
  ];
  const tiers = Object.entries(result.aucByTier);
  if (tiers.length > 0) lines.push(`AUC by tier: ${tiers.map(([t, a]) => `${t} ${a === null ? '–' : f(a)}`).join(', ')}`);
  if (result.comparedWith) lines.push(`champion ${result.comparedWith.version} on the same holdout: AUC ${f(result.comparedWith.auc)}`);
  return lines;
}
