/** Errors that training answers on purpose (422: the request was fine, the data cannot train a model). */
import { ServiceError } from '../../data/errors';

export interface LeakingFeature {
  feature: string;
  /** max(AUC, 1 − AUC) of the feature alone on the holdout. */
  auc: number;
}

/** A feature alone predicts the holdout labels almost perfectly: it most likely encodes the label. */
export class LeakageError extends ServiceError {
  readonly features: LeakingFeature[];

  constructor(features: LeakingFeature[], threshold: number) {
    const named = features.map((f) => `"${f.feature}" (AUC ${f.auc.toFixed(3)})`).join(', ');
    const lead = features.length === 1 ? 'Feature' : 'Features';
    super(
      422,
      'Leakage detected',
      `${lead} ${named} alone ${features.length === 1 ? 'reaches' : 'reach'} a holdout AUC above ${threshold}: ` +
        'a single feature this predictive almost always encodes the label or information from after the as-of date. ' +
        'Remove or fix it and train again.',
      features.map((f) => ({ path: `features.${f.feature}`, message: `holdout AUC ${f.auc.toFixed(4)} on its own (limit ${threshold})` })),
    );
    this.features = features;
  }
}

/** The data set cannot train or evaluate a model (empty, one class only, values that are not numbers...). */
export class TrainingDataError extends ServiceError {
  constructor(detail: string) {
    super(422, 'Unusable training data', detail);
  }
}
