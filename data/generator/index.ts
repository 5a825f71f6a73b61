/** Demo-data generator: a seeded, deterministic simulation of a partner program. */
export { generateProgram, ARCHETYPES } from './program';
export type { Archetype, GeneratedProgram, PartnerTruth, ProgramOptions } from './program';
export { Rng, clamp, hashSeed, mulberry32, sigmoid } from './random';
