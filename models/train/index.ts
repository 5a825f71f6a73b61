/** The TensorFlow.js training core: train and evaluate a model next to its baseline, save and load it. */
export { trainAndEvaluate, type TrainAndEvaluateInput } from './pipeline';
export { DEFAULT_HYPERPARAMETERS, makeBundle, type BundleParts, type Hyperparameters, type NetworkSummary, type TrainedBundle, type TrainingSummary } from './bundle';
export { batchSizeFor, createBaseline, createModel, linearWeights, predictLinear, predictMatrix, train } from './model';
export type { EpochProgress, LinearWeights, ModelOptions, TrainOptions, TrainResult } from './model';
export { evaluate, type Evaluation, type Predictor } from './evaluate';
export { checkLeakage, LEAKAGE_AUC_THRESHOLD, singleFeatureAucs, validateDataset } from './guards';
export { LeakageError, TrainingDataError, type LeakingFeature } from './errors';
export { applyNormalization, fitNormalization, isNormalization, type Normalization } from './normalize';
export { calibrate, fitPlatt, IDENTITY_CALIBRATION, isPlattCalibration, logit, sigmoid, type PlattCalibration } from './calibrate';
export { fromArtifacts, toArtifacts, ARTIFACT_FORMAT_VERSION, WEIGHTS_FILE, type ModelArtifacts, type ModelJson, type ModelMetadata } from './serialize';
