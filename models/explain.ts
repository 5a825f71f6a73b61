import { encodeRow } from './features/encode';
import { displayValue, FEATURE_DEFS, FEATURE_SPECS } from './features/feature-defs';
import type { Driver } from '../data/stores/score-store';
import type { LoadedModel } from './artifact-store';
import type { FeatureRow, FeatureUnit } from './types';

export interface Explained {
  probability: number;
  drivers: Driver[];
}

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const money = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatValue(unit: FeatureUnit, value: number): string {
  switch (unit) {
    case 'ratio':
      return `${Math.round(value * 100)}%`;
    case 'currency':
      return money.format(value);
    case 'days':
      return `${number.format(value)} days`;
    case 'flag':
      return value >= 0.5 ? 'yes' : 'no';
    default:
      return number.format(value);
  }
}

export function peerMediansFor(model: LoadedModel, tier: string): number[] {
  return model.serving.peerMedians[tier] ?? model.serving.peerMedians['*'] ?? [];
}

/**
 * Scores rows and explains each score: every numeric feature is set, one at a time, to the
 * median of the partner's peers (its tier in the training data); the change in probability is
 * that feature's effect. One batched prediction per partner.
 */
export function scoreAndExplain(model: LoadedModel, rows: readonly FeatureRow[], topN = 5): Explained[] {
  const results: Explained[] = [];
  for (const row of rows) {
    const medians = peerMediansFor(model, row.categories.tier);
    const variants: number[][] = [encodeRow(model.serving.encoder, row)];
    const changed: number[] = [];
    row.values.forEach((value, i) => {
      const median = medians[i];
      if (median === undefined || median === value) return;
      const values = [...row.values];
      values[i] = median;
      variants.push(encodeRow(model.serving.encoder, { ...row, values }));
      changed.push(i);
    });
    const p = model.predict(variants);
    const probability = p[0] ?? 0;
    // Words are built only for the drivers kept: formatting every feature's label cost more
    // than the arithmetic of the whole batch.
    const drivers = changed
      .map((i, k) => ({ i, effect: probability - (p[k + 1] ?? probability) }))
      .filter((d) => Math.abs(d.effect) >= 0.0005)
      .sort((a, b) => Math.abs(b.effect) - Math.abs(a.effect))
      .slice(0, topN)
      .map(({ i, effect }) => {
        const spec = FEATURE_SPECS[i]!;
        const def = FEATURE_DEFS[i]!;
        const value = displayValue(spec.name, row.values[i]!);
        const peerMedian = displayValue(spec.name, medians[i]!);
        return {
          feature: def.name,
          label: `${def.label}: ${formatValue(def.unit, value)} — peers' median ${formatValue(def.unit, peerMedian)}`,
          value,
          peerMedian,
          effect: Math.round(effect * 10_000) / 10_000,
        };
      });
    results.push({ probability, drivers });
  }
  return results;
}

/** Per-tier (and overall '*') medians of each numeric feature. */
export function computePeerMedians(rows: readonly FeatureRow[]): Record<string, number[]> {
  const groups = new Map<string, FeatureRow[]>([['*', [...rows]]]);
  for (const row of rows) {
    const list = groups.get(row.categories.tier) ?? [];
    list.push(row);
    groups.set(row.categories.tier, list);
  }
  const out: Record<string, number[]> = {};
  for (const [key, list] of groups) {
    const width = list[0]?.values.length ?? 0;
    out[key] = Array.from({ length: width }, (_, i) => {
      const sorted = list.map((r) => r.values[i]!).sort((a, b) => a - b);
      const mid = Math.floor(sorted.length / 2);
      return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    });
  }
  return out;
}
