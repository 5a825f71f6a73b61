import type { Deal } from '../data/schemas/deal';
import type { PartnerEvent } from '../data/schemas/event';
import type { Partner } from '../data/schemas/partner';

export const MODEL_NAMES = ['churn', 'top-performer'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/** Everything stored about one partner: the latest partner record, its events, its deals (latest version of each). */
export interface PartnerHistory {
  partner: Partner;
  /** Sorted by occurredAt. */
  events: PartnerEvent[];
  /** Sorted by createdAt. */
  deals: Deal[];
}

/** How a feature is shown to a person (units drive formatting in score drivers). */
export type FeatureUnit = 'count' | 'days' | 'ratio' | 'currency' | 'score' | 'flag';

export interface FeatureDef {
  name: string;
  /** Person-readable label, reused in score drivers: "Portal logins, last 30 days". */
  label: string;
  unit: FeatureUnit;
}

export interface PartnerCategories {
  tier: string;
  region: string;
  segment: string;
}

/** A partner's features at one point in time (numeric features in FEATURE_DEFS order, plus its categories). */
export interface FeatureRow {
  partnerId: string;
  asOf: string;
  values: number[];
  categories: PartnerCategories;
}

/** A labelled point-in-time snapshot for training or evaluation. */
export interface Snapshot extends FeatureRow {
  label: 0 | 1;
}

/** A numeric design matrix ready for a model. `groups` carries the tier of each row (AUC by tier). */
export interface Dataset {
  x: number[][];
  y: number[];
  groups: string[];
  featureNames: string[];
}
