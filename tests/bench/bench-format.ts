import { cpus, totalmem } from 'node:os';

/** The machine a benchmark ran on, as every report prints it. */
export function machineLine(): string {
  const list = cpus();
  return `${list[0]?.model.trim() ?? 'unknown CPU'}, ${list.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`;
}

/** An instant to the minute, as the reports print it: `2026-11-22 04:40 UTC`. */
export function utcMinute(at: Date | string): string {
  return `${(typeof at === 'string' ? at : at.toISOString()).slice(0, 16).replace('T', ' ')} UTC`;
}

/** The 1 / 5 / 15-minute load averages before and after a run (the machine may be shared). */
export function loadChange(before: readonly number[], after: readonly number[]): string {
  const load = (l: readonly number[]): string => l.map((x) => x.toFixed(2)).join(' / ');
  return `${load(before)} → ${load(after)} (1 / 5 / 15 min)`;
}
