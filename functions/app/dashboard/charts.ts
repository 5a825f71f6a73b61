/**
 * Charts as server-rendered SVG: no script, no library, nothing loaded from elsewhere. Each is an
 * image with a title and a description (its accessible name); the pages put the numbers in a table
 * next to it, so nothing is only in the picture.
 */
import { html, type Html } from './html';
import { day, percent } from './format';
import type { ReliabilityBin } from '../../../models/metrics';

const DAY_MS = 86_400_000;
const r1 = (v: number): number => Math.round(v * 10) / 10;

/** Maps [d0, d1] onto [p0, p1]. */
const scale =
  (d0: number, d1: number, p0: number, p1: number) =>
  (v: number): number =>
    r1(d1 === d0 ? (p0 + p1) / 2 : p0 + ((v - d0) / (d1 - d0)) * (p1 - p0));

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above v (v > 0). */
export function niceCeil(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const base = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * base >= v - 1e-12) return m * base;
  return 10 * base;
}

/** A probability axis from 0 to a round top that holds `max` (at most 1). */
export const probabilityTop = (max: number, floor = 0.05): number => Math.min(1, niceCeil(Math.max(max * 1.1, floor)));

/** Round tick values from 0 to top: a 1, 2, 2.5 or 5 step giving about five intervals. */
export function ticks(top: number): number[] {
  const step = niceCeil(top / 5);
  const out: number[] = [];
  for (let i = 0; i * step <= top + step * 1e-9; i += 1) out.push(Number((i * step).toPrecision(12)));
  return out;
}

/** A tick label: percent with as many decimals as the step needs. */
const tickPercent = (v: number, top: number): string => percent(v, top / 5 < 0.01 ? 1 : 0);

function frame(id: string, title: string, desc: string, width: number, height: number, body: Html, cls = 'chart'): Html {
  return html`<svg class="${cls}" id="${id}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-labelledby="${id}-title ${id}-desc" focusable="false"><title id="${id}-title">${title}</title><desc id="${id}-desc">${desc}</desc>${body}</svg>`;
}

export interface HistoryPoint {
  asOf: string;
  churn: number | null;
  topPerformer: number | null;
}

/** Churn and top-performer probability over the scoring runs, oldest to newest. */
export function probabilityHistoryChart(id: string, points: readonly HistoryPoint[]): Html {
  const W = 1000;
  const H = 260;
  const m = { l: 56, r: 24, t: 14, b: 34 };
  const sorted = [...points].sort((a, b) => a.asOf.localeCompare(b.asOf));
  const times = sorted.map((p) => Date.parse(p.asOf));
  let [t0, t1] = [Math.min(...times), Math.max(...times)];
  if (!(t1 > t0)) [t0, t1] = [t0 - 15 * DAY_MS, t1 + 15 * DAY_MS];
  const values = sorted.flatMap((p) => [p.churn, p.topPerformer]).filter((v): v is number => v !== null);
  const top = probabilityTop(values.length ? Math.max(...values) : 0);
  const x = scale(t0, t1, m.l + 8, W - m.r - 8);
  const y = scale(0, top, H - m.b, m.t);
  const series = (key: 'churn' | 'topPerformer', cls: string, name: string): Html => {
    const pts = sorted.filter((p) => p[key] !== null);
    if (pts.length === 0) return html``;
    const line = pts.map((p) => `${x(Date.parse(p.asOf))},${y(p[key] as number)}`).join(' ');
    return html`<polyline class="series-${cls}" points="${line}"/>${pts.map(
      (p) => html`<circle class="dot-${cls}" cx="${x(Date.parse(p.asOf))}" cy="${y(p[key] as number)}" r="3.5"><title>${day(p.asOf)}: ${name} ${percent(p[key])}</title></circle>`,
    )}`;
  };
  // Date labels: every run when there are few, else about five evenly spaced.
  const step = Math.max(1, Math.ceil(sorted.length / 5));
  const labelled = sorted.filter((_, i) => i % step === 0 || i === sorted.length - 1);
  const body = html`
    ${ticks(top).map((v) => html`<line class="grid-line" x1="${m.l}" x2="${W - m.r}" y1="${y(v)}" y2="${y(v)}"/><text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${tickPercent(v, top)}</text>`)}
    <line class="axis" x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}"/>
    ${labelled.map((p, i) => html`<text x="${x(Date.parse(p.asOf))}" y="${H - m.b + 18}" text-anchor="${labelled.length > 1 && i === 0 ? 'start' : labelled.length > 1 && i === labelled.length - 1 ? 'end' : 'middle'}">${day(p.asOf)}</text>`)}
    ${series('churn', 'churn', 'churn')}${series('topPerformer', 'top', 'top performer')}`;
  const last = sorted[sorted.length - 1];
  const desc = last
    ? `${sorted.length} scoring runs from ${day(sorted[0]!.asOf)} to ${day(last.asOf)}. Latest churn probability ${percent(last.churn)}${last.topPerformer !== null ? `, top-performer probability ${percent(last.topPerformer)}` : ''}.`
    : 'No scoring runs yet.';
  return frame(id, 'Probability by scoring run', desc, W, H, body, 'chart chart-wide');
}

/** A square 0–1 (or 0–top) plot frame with axis titles. */
function squarePlot(top: number, xTitle: string, yTitle: string) {
  const W = 330;
  const H = 310;
  const m = { l: 50, r: 14, t: 12, b: 44 };
  const x = scale(0, top, m.l, W - m.r);
  const y = scale(0, top, H - m.b, m.t);
  const axes = html`
    ${ticks(top).map(
      (v) => html`<line class="grid-line" x1="${m.l}" x2="${W - m.r}" y1="${y(v)}" y2="${y(v)}"/><line class="grid-line" x1="${x(v)}" x2="${x(v)}" y1="${m.t}" y2="${H - m.b}"/>
      <text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${top < 1 ? tickPercent(v, top) : v.toFixed(1)}</text><text x="${x(v)}" y="${H - m.b + 16}" text-anchor="middle">${top < 1 ? tickPercent(v, top) : v.toFixed(1)}</text>`,
    )}
    <line class="axis" x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}"/><line class="axis" x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}"/>
    <line class="ref" x1="${x(0)}" y1="${y(0)}" x2="${x(top)}" y2="${y(top)}"/>
    <text x="${(m.l + W - m.r) / 2}" y="${H - 6}" text-anchor="middle">${xTitle}</text>
    <text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${yTitle}</text>`;
  return { W, H, m, x, y, axes };
}

export interface RocPoint {
  fpr: number;
  tpr: number;
}

/** The ROC curve on the holdout, with the chance diagonal. */
export function rocChart(id: string, points: readonly RocPoint[], auc: number | null, subject: string): Html {
  const p = squarePlot(1, 'False positive rate', 'True positive rate');
  const line = points.map((pt) => `${p.x(pt.fpr)},${p.y(pt.tpr)}`).join(' ');
  const area = points.length ? `${p.x(0)},${p.y(0)} ${line} ${p.x(1)},${p.y(0)}` : '';
  const body = html`${points.length ? html`<polygon class="roc-area" points="${area}"/>` : ''}${p.axes}${points.length ? html`<polyline class="roc" points="${line}"/>` : ''}`;
  const desc = points.length
    ? `ROC curve of ${subject} on its holdout: ${points.length} points from (0, 0) to (1, 1), area under the curve ${auc === null ? 'not defined' : auc.toFixed(3)}; the dashed diagonal is chance.`
    : `No ROC curve stored for ${subject}.`;
  return frame(id, `ROC curve, ${subject}`, desc, p.W, p.H, body);
}

export type { ReliabilityBin };

/** Reliability (calibration): observed rate against mean predicted probability per bin; the diagonal is perfect calibration. */
export function reliabilityChart(id: string, bins: readonly ReliabilityBin[], subject: string): Html {
  const filled = bins.filter((b) => b.count > 0 && b.meanPredicted !== null && b.observedRate !== null);
  const top = probabilityTop(Math.max(0, ...filled.flatMap((b) => [b.meanPredicted as number, b.observedRate as number])), 0.1);
  const p = squarePlot(top, 'Mean predicted probability', 'Observed rate');
  const maxCount = Math.max(1, ...bins.map((b) => b.count));
  const baseline = p.y(0);
  const bars = bins
    .filter((b) => b.count > 0 && b.lower < top)
    .map((b) => {
      const h = r1((b.count / maxCount) * 36);
      const x0 = p.x(b.lower);
      const x1 = p.x(Math.min(b.upper, top));
      return html`<rect class="count-bar" x="${x0 + 1}" y="${baseline - h}" width="${Math.max(1, x1 - x0 - 2)}" height="${h}"/>`;
    });
  const line = filled.map((b) => `${p.x(b.meanPredicted as number)},${p.y(b.observedRate as number)}`).join(' ');
  const body = html`${p.axes}${bars}${filled.length > 1 ? html`<polyline class="rel" points="${line}"/>` : ''}${filled.map(
    (b) =>
      html`<circle class="rel-dot" cx="${p.x(b.meanPredicted as number)}" cy="${p.y(b.observedRate as number)}" r="4"><title>${percent(b.lower, 0)}–${percent(b.upper, 0)}: predicted ${percent(b.meanPredicted)}, observed ${percent(b.observedRate)}, ${b.count} rows</title></circle>`,
  )}`;
  const desc = filled.length
    ? `Calibration of ${subject} on its holdout in ${filled.length} probability bins (grey bars: rows per bin); points on the dashed diagonal mean predicted probabilities match observed rates.`
    : `No calibration bins stored for ${subject}.`;
  return frame(id, `Reliability, ${subject}`, desc, p.W, p.H, body);
}

/** Horizontal bars of AUC per group on a 0–1 axis, with chance (0.5) marked. */
export function aucBars(id: string, rows: readonly { label: string; value: number | null }[], subject: string): Html {
  const W = 320;
  const rowH = 28;
  const m = { l: 84, r: 46, t: 8, b: 24 };
  const H = m.t + m.b + rowH * Math.max(1, rows.length);
  const x = scale(0, 1, m.l, W - m.r);
  const body = html`
    ${[0, 0.25, 0.5, 0.75, 1].map((v) => html`<line class="grid-line" x1="${x(v)}" x2="${x(v)}" y1="${m.t}" y2="${H - m.b}"/><text x="${x(v)}" y="${H - 6}" text-anchor="middle">${v.toFixed(2)}</text>`)}
    <line class="ref" x1="${x(0.5)}" x2="${x(0.5)}" y1="${m.t}" y2="${H - m.b}"/>
    ${rows.map((r, i) => {
      const yTop = m.t + i * rowH + 5;
      return html`<text x="${m.l - 8}" y="${yTop + 13}" text-anchor="end">${r.label}</text>${
        r.value === null ? html`<text x="${x(0) + 4}" y="${yTop + 13}">not defined (one class)</text>` : html`<rect class="bar-auc" x="${x(0)}" y="${yTop}" width="${x(r.value) - x(0)}" height="${rowH - 10}"/><text x="${x(r.value) + 4}" y="${yTop + 13}">${r.value.toFixed(3)}</text>`
      }`;
    })}`;
  const desc = `Holdout AUC of ${subject} within each tier: ${rows.map((r) => `${r.label} ${r.value === null ? 'not defined' : r.value.toFixed(3)}`).join(', ')}. The dashed line is chance (0.5).`;
  return frame(id, `AUC by tier, ${subject}`, desc, W, H, body);
}

export interface QuartileBar {
  label: string;
  value: number | null;
  p25: number;
  p50: number;
  p75: number;
}

/**
 * A peer benchmark: the peers' middle half (p25–p75) as a box, their median as a line, and the
 * partner's own value as a marker. Only the coarsened quartiles the API returns are drawn.
 */
export function quartileBar(id: string, q: QuartileBar, describe: (v: number) => string): Html {
  const W = 300;
  const H = 34;
  const own = q.value;
  let lo = Math.min(0, q.p25, own ?? q.p25);
  let hi = Math.max(q.p75, own ?? q.p75, q.p50);
  const span = hi - lo || Math.abs(hi) || 1;
  hi += span * 0.15;
  if (lo < 0) lo -= span * 0.15;
  const x = scale(lo, hi, 10, W - 10);
  const boxW = Math.max(3, x(q.p75) - x(q.p25));
  const marker = own === null ? html`` : html`<path class="own" d="M ${x(own)} 7 l 7 10 l -7 10 l -7 -10 z"/>`;
  const body = html`<rect class="track" x="10" y="11" width="${W - 20}" height="12" rx="3"/><rect class="iqr" x="${x(q.p25)}" y="9" width="${boxW}" height="16" rx="2"/><line class="median" x1="${x(q.p50)}" x2="${x(q.p50)}" y1="6" y2="28"/>${marker}`;
  const desc = `${own === null ? 'You have no value' : `You: ${describe(own)}`}; peers' middle half ${describe(q.p25)} to ${describe(q.p75)}, median ${describe(q.p50)}.`;
  return frame(id, q.label, desc, W, H, body);
}

/** Two bars: with a partner and direct, for one program measure. */
export function pairBars(id: string, title: string, partner: number | null, direct: number | null, describe: (v: number | null) => string): Html {
  const W = 420;
  const H = 82;
  const m = { l: 104, r: 86 };
  const max = Math.max(partner ?? 0, direct ?? 0) || 1;
  const x = scale(0, max, m.l, W - m.r);
  const bar = (label: string, v: number | null, cls: string, yTop: number): Html =>
    html`<text x="${m.l - 8}" y="${yTop + 15}" text-anchor="end">${label}</text>${v === null ? '' : html`<rect class="${cls}" x="${m.l}" y="${yTop}" width="${Math.max(1, x(v) - m.l)}" height="22" rx="2"/>`}<text x="${v === null ? m.l + 4 : x(v) + 6}" y="${yTop + 15}">${describe(v)}</text>`;
  const body = html`${bar('With a partner', partner, 'bar-partner', 8)}${bar('Direct', direct, 'bar-direct', 44)}`;
  return html`<p class="chart-title" aria-hidden="true">${title}</p>${frame(id, title, `${title}: with a partner ${describe(partner)}, direct ${describe(direct)}.`, W, H, body)}`;
}
