import type { ModelStore } from '../data/stores/model-store';
import type { ScoreDetail } from '../data/stores/score-store';
import type { ModelCache, LoadedModel } from './artifact-store';
import { scoreAndExplain } from './explain';
import { buildFeatures } from './features/build-features';
import { FIRST_YEAR_DAYS, isActiveAt } from './labels';
import { currentChampion } from './registry';
import { riskBand, type BandThresholds } from './risk-bands';
import type { PartnerHistory } from './types';
import { ServiceError } from '../data/errors';

export interface Champions {
  churn: { version: string; model: LoadedModel };
  topPerformer?: { version: string; model: LoadedModel };
}

export interface PartnerScore {
  partnerId: string;
  churn: ScoreDetail;
  topPerformer: ScoreDetail | null;
}

export interface Bands {
  churn: BandThresholds;
  topPerformer: BandThresholds;
}

export class NoChampionError extends ServiceError {
  constructor() {
    super(409, 'No model to score with', 'There is no churn champion yet: train the churn model first (POST /v1/models/churn/train).');
  }
}

/** The current champions, loaded once per version and kept. */
export async function loadChampions(models: ModelStore, cache: ModelCache): Promise<Champions> {
  const [churn, top] = await Promise.all([currentChampion(models, 'churn'), currentChampion(models, 'top-performer')]);
  if (!churn) throw new NoChampionError();
  return {
    churn: { version: churn.version, model: await cache.get(churn.artifactPrefix) },
    ...(top ? { topPerformer: { version: top.version, model: await cache.get(top.artifactPrefix) } } : {}),
  };
}

const DAY_MS = 86_400_000;

/** In its first 365 days at asOf: the partners the top-performer model is for. */
export function isNewPartner(history: PartnerHistory, asOf: string): boolean {
  return Date.parse(asOf) - Date.parse(history.partner.joinedAt) < FIRST_YEAR_DAYS * DAY_MS;
}

/** Whether a partner gets scored as of a date: it had joined and had not churned. */
export const isScorable = (history: PartnerHistory, asOf: string): boolean => isActiveAt(history.partner, asOf);

/**
 * Scores partners as of a date with both champions: churn for every active partner,
 * top-performer only for those in their first 365 days. Histories must hold only what was
 * known at asOf (or more: features ignore anything later).
 */
export function scoreHistories(champions: Champions, histories: readonly PartnerHistory[], asOf: string, bands: Bands): PartnerScore[] {
  const active = histories.filter((h) => isScorable(h, asOf));
  const rows = active.map((h) => buildFeatures(h, asOf));
  const churn = scoreAndExplain(champions.churn.model, rows);
  const young = champions.topPerformer ? active.map((h, i) => (isNewPartner(h, asOf) ? i : -1)).filter((i) => i >= 0) : [];
  const top = champions.topPerformer ? scoreAndExplain(champions.topPerformer.model, young.map((i) => rows[i]!)) : [];
  const topByIndex = new Map(young.map((rowIndex, k) => [rowIndex, top[k]!]));
  return active.map((h, i) => {
    const c = churn[i]!;
    const t = topByIndex.get(i);
    return {
      partnerId: h.partner.partnerId,
      churn: { probability: round(c.probability), riskBand: riskBand(c.probability, bands.churn), modelVersion: champions.churn.version, drivers: c.drivers },
      topPerformer:
        t && champions.topPerformer
          ? { probability: round(t.probability), riskBand: riskBand(t.probability, bands.topPerformer), modelVersion: champions.topPerformer.version, drivers: t.drivers }
          : null,
    };
  });
}

const round = (p: number): number => Math.round(p * 1e6) / 1e6;
