import type { RiskBand } from '../data/stores/score-store';

/** Lower bounds of `medium` and `high`, on calibrated probability. */
export interface BandThresholds {
  medium: number;
  high: number;
}

/**
 * Defaults, documented in docs/scoring.md: churn within 90 days is rare (a few percent a
 * quarter), so a 10% calibrated chance is already several times the base rate, and 25% means
 * one partner in four like this one leaves. Top-performer likelihood is measured against a
 * 20% base rate.
 */
export const DEFAULT_BANDS = {
  churn: { medium: 0.1, high: 0.25 },
  topPerformer: { medium: 0.3, high: 0.6 },
} as const satisfies Record<string, BandThresholds>;

export function riskBand(probability: number, thresholds: BandThresholds): RiskBand {
  if (probability >= thresholds.high) return 'high';
  if (probability >= thresholds.medium) return 'medium';
  return 'low';
}

/** "0.1,0.25" → {medium: 0.1, high: 0.25}; undefined when the text is not two increasing probabilities. */
export function parseBands(text: string): BandThresholds | undefined {
  const parts = text.split(',').map((p) => Number(p.trim()));
  const [medium, high] = parts;
  if (parts.length !== 2 || medium === undefined || high === undefined) return undefined;
  if (!(medium > 0 && medium < high && high < 1)) return undefined;
  return { medium, high };
}
