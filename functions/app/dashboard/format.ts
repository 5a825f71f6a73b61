/** How the dashboard writes numbers and dates for a person (en-US, UTC). */

const decimal1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 0.1234 → "12.3%" */
export const percent = (p: number | null | undefined, digits = 1): string => (p === null || p === undefined || !Number.isFinite(p) ? '–' : `${(p * 100).toFixed(digits)}%`);

/** A change of probability in percentage points: 0.021 → "+2.1 pts". */
export const points = (delta: number): string => `${delta > 0 ? '+' : delta < 0 ? '−' : '±'}${Math.abs(delta * 100).toFixed(1)} pts`;

/** Amounts are in the reporting currency, written without a symbol: 12345.6 → "12,346". */
export const amount = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : whole.format(v));

export const num = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : decimal1.format(v));

export const days = (v: number | null | undefined): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${decimal1.format(v)} days`);

/** "2025-06-30T23:59:59.999Z" → "2025-06-30" */
export const day = (iso: string | null | undefined): string => (iso ? iso.slice(0, 10) : '–');

/** "2025-06-30T12:03:00Z" → "2025-06-30 12:03 UTC" */
export const dateTime = (iso: string | null | undefined): string => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : '–');

/** A value in the unit a metric declares (benchmark and feature units). */
export function inUnit(unit: string, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  switch (unit) {
    case 'ratio':
      return percent(v, 0);
    case 'currency':
      return amount(v);
    case 'days':
      return days(v);
    default:
      return num(v);
  }
}

/** Metric values (AUC, Brier): three decimals; null/NaN → "–". */
export const metric = (v: number | null | undefined, digits = 3): string => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
