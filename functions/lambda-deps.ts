import { loadConfig } from './config';
import { createDeps, type ServiceDeps } from './deps';

/** Built once per Lambda container, at cold start; a bad environment fails here, loudly. */
export const lambdaDeps: ServiceDeps = createDeps(loadConfig());
