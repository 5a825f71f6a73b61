/**
 * One-hot encoding of the partner categories (tier, region, segment) with a vocabulary fitted
 * on training rows. The encoder is a plain JSON object, saved with a model version so that
 * scoring encodes exactly as training did. A category not seen in training encodes as all
 * zeros (the model's baseline), never as an error.
 */
import type { Dataset, FeatureDef, FeatureRow, PartnerCategories, Snapshot } from '../types';
import { FEATURE_DEFS } from './feature-defs';

export const CATEGORY_KEYS = ['tier', 'region', 'segment'] as const;
export type CategoryKey = (typeof CATEGORY_KEYS)[number];

export interface Encoder {
  version: 1;
  /** Names of the numeric features the encoder was fitted with, in FeatureRow.values order. */
  numeric: string[];
  /** Sorted vocabulary of each category. */
  categories: Record<CategoryKey, string[]>;
}

const CATEGORY_WORDS: Record<CategoryKey, string> = { tier: 'Tier', region: 'Region', segment: 'Segment' };

/** Fits the vocabularies on rows (sorted, so the same rows in any order give the same encoder). */
export function fitEncoder(rows: readonly FeatureRow[]): Encoder {
  const sets: Record<CategoryKey, Set<string>> = { tier: new Set(), region: new Set(), segment: new Set() };
  for (const row of rows) for (const key of CATEGORY_KEYS) sets[key].add(row.categories[key]);
  const sorted = (s: Set<string>): string[] => [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    version: 1,
    numeric: FEATURE_DEFS.map((d) => d.name),
    categories: { tier: sorted(sets.tier), region: sorted(sets.region), segment: sorted(sets.segment) },
  };
}

/** The row's numeric values followed by the one-hot blocks of tier, region, segment. */
export function encodeRow(encoder: Encoder, row: FeatureRow): number[] {
  if (row.values.length !== encoder.numeric.length) {
    throw new Error(`row has ${row.values.length} numeric values, the encoder expects ${encoder.numeric.length}`);
  }
  const out = row.values.slice();
  for (const key of CATEGORY_KEYS) {
    const vocab = encoder.categories[key];
    const value: PartnerCategories[CategoryKey] = row.categories[key];
    for (const v of vocab) out.push(v === value ? 1 : 0);
  }
  return out;
}

/** Column names of encodeRow's output: the numeric names, then `tier=gold`, `region=EMEA`, … */
export function encodedFeatureNames(encoder: Encoder): string[] {
  const names = encoder.numeric.slice();
  for (const key of CATEGORY_KEYS) for (const v of encoder.categories[key]) names.push(`${key}=${v}`);
  return names;
}

/** Column definitions of encodeRow's output, with person labels ("Tier: gold"). */
export function encodedFeatureDefs(encoder: Encoder): FeatureDef[] {
  const byName = new Map(FEATURE_DEFS.map((d) => [d.name, d]));
  const defs: FeatureDef[] = encoder.numeric.map((name) => byName.get(name) ?? { name, label: name, unit: 'count' });
  for (const key of CATEGORY_KEYS) {
    for (const v of encoder.categories[key]) defs.push({ name: `${key}=${v}`, label: `${CATEGORY_WORDS[key]}: ${v}`, unit: 'flag' });
  }
  return defs;
}

/** A design matrix of labelled snapshots; `groups` is each row's tier. */
export function toDataset(encoder: Encoder, rows: readonly Snapshot[]): Dataset {
  return {
    x: rows.map((r) => encodeRow(encoder, r)),
    y: rows.map((r) => r.label),
    groups: rows.map((r) => r.categories.tier),
    featureNames: encodedFeatureNames(encoder),
  };
}
