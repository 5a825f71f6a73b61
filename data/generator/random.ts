/**
 * Seeded pseudo-random numbers for the demo-data generator.
 *
 * mulberry32 is a tiny 32-bit generator: fast, good enough for simulation, and fully
 * deterministic, so the same seed always yields the same data set. Nothing here touches
 * Math.random.
 */

/** A 32-bit generator returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Mixes any number of integers or strings into one 32-bit seed (FNV-1a over the parts,
 * then a murmur-style finaliser). Used to give every partner and every purpose its own
 * independent stream, so that one part of the simulation does not shift another.
 */
export function hashSeed(...parts: Array<number | string>): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const s = typeof part === 'number' ? `#${part}` : `$${part}`;
    for (let i = 0; i < s.length; i += 1) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0xff;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  private readonly source: () => number;
  private spareNormal: number | undefined;

  constructor(seed: number) {
    this.source = mulberry32(seed);
  }

  /** An independent generator derived from this seed and a label. */
  static from(...parts: Array<number | string>): Rng {
    return new Rng(hashSeed(...parts));
  }

  /** A float in [0, 1). */
  next(): number {
    return this.source();
  }

  /** A float in [min, max). */
  uniform(min = 0, max = 1): number {
    return min + (max - min) * this.source();
  }

  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.source() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.source() < p;
  }

  /** A normal deviate (Box–Muller, the second value of each pair is kept for the next call). */
  normal(mean = 0, sd = 1): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + sd * z;
    }
    let u = 0;
    while (u <= Number.EPSILON) u = this.source();
    const v = this.source();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + sd * r * Math.cos(2 * Math.PI * v);
  }

  /** exp(normal(mu, sigma)): a positive, right-skewed amount. */
  lognormal(mu: number, sigma: number): number {
    return Math.exp(this.normal(mu, sigma));
  }

  /** An exponential waiting time with the given mean. */
  exponential(mean: number): number {
    let u = 0;
    while (u <= Number.EPSILON) u = this.source();
    return -mean * Math.log(u);
  }

  /**
   * A Poisson count. Knuth's product method for small means, a rounded normal
   * approximation (never negative) for large ones.
   */
  poisson(lambda: number): number {
    if (!(lambda > 0)) return 0;
    if (lambda > 40) {
      return Math.max(0, Math.round(this.normal(lambda, Math.sqrt(lambda))));
    }
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = this.source();
    while (p > limit) {
      k += 1;
      p *= this.source();
    }
    return k;
  }

  /** One item, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.source() * items.length)] as T;
  }

  /** One item, with probability proportional to its weight. */
  pickWeighted<T>(items: readonly T[], weights: readonly number[]): T {
    if (items.length === 0 || items.length !== weights.length) {
      throw new Error('pickWeighted needs as many weights as items');
    }
    let total = 0;
    for (const w of weights) total += Math.max(0, w);
    let r = this.source() * total;
    for (let i = 0; i < items.length; i += 1) {
      r -= Math.max(0, weights[i] ?? 0);
      if (r < 0) return items[i] as T;
    }
    return items[items.length - 1] as T;
  }

  /** A random Monday-to-Friday among the UTC day numbers [d0, d1), or any of them if none is a workday. */
  workdayIn(d0: number, d1: number): number {
    const work: number[] = [];
    for (let d = d0; d < d1; d += 1) if (isWorkday(d)) work.push(d);
    return work.length > 0 ? this.pick(work) : this.int(d0, d1 - 1);
  }

  /** Epoch ms of a whole second on UTC day number `day`, from firstHour for spanHours. */
  timeOn(day: number, firstHour: number, spanHours: number): number {
    return day * 86_400_000 + firstHour * 3_600_000 + this.int(0, spanHours * 3600 - 1) * 1000;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i -= 1) {
      const j = Math.floor(this.source() * (i + 1));
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }
}

/** Whether a UTC day number (days since 1970-01-01, a Thursday) is Monday to Friday. */
export function isWorkday(day: number): boolean {
  const dow = (((day + 4) % 7) + 7) % 7; // 0 = Sunday
  return dow >= 1 && dow <= 5;
}

/** The logistic function. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export function clamp(x: number, min: number, max: number): number {
  return x < min ? min : x > max ? max : x;
}
