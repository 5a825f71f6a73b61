import { ValidationError } from '../../../../data/errors';
import { toFieldErrors, type FieldError } from '../../../../data/schemas/common';
import type { DealSegmentMetrics } from '../../../../models/program-metrics';
import { programMetrics, programQuery, resolvePeriod } from '../../routes/metrics';
import { pairBars } from '../charts';
import { amount, day, days, percent } from '../format';
import { href, html, type Html } from '../html';
import { errorSummary, layout, respond, sessionOf, type DashContext } from '../layout';

const DAY_MS = 86_400_000;
const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Quick periods, each ending today (UTC): the whole of `to`'s day is included. */
function presets(now: number): { label: string; from: string; to: string }[] {
  const today = isoDay(now);
  return [
    { label: 'Last 30 days', from: isoDay(now - 29 * DAY_MS), to: today },
    { label: 'Last 90 days', from: isoDay(now - 89 * DAY_MS), to: today },
    { label: 'Last 12 months', from: isoDay(now - 364 * DAY_MS), to: today },
    { label: 'Year to date', from: `${today.slice(0, 4)}-01-01`, to: today },
  ];
}

const stat = (label: string, value: Html | string, sub?: Html | string): Html => html`<div class="stat"><dt>${label}</dt><dd>${value}${sub ? html`<span class="sub">${sub}</span>` : ''}</dd></div>`;

/** GET /program: program metrics over a chosen period (the API's /v1/metrics/program). */
export async function programPage(c: DashContext): Promise<Response> {
  const session = sessionOf(c);
  const deps = c.get('deps');
  const now = Date.now();
  const raw = Object.fromEntries(Object.entries(c.req.query()).filter(([k, v]) => (k === 'from' || k === 'to') && v !== ''));
  const errors: FieldError[] = [];
  let query: { from?: string; to?: string } = {};
  const parsed = programQuery.safeParse(raw);
  if (parsed.success) query = parsed.data;
  else errors.push(...toFieldErrors(parsed.error));
  let period: { from: string; to: string };
  try {
    period = resolvePeriod(query, new Date(now));
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    errors.push(...(error.errors ?? [{ path: 'from', message: error.message }]));
    period = resolvePeriod({}, new Date(now));
  }
  const m = await programMetrics(deps.history, period);
  const d = m.deals;
  const p = m.partners;
  const segments: [string, DealSegmentMetrics][] = [
    ['With a partner', d.withPartner],
    ['Direct', d.withoutPartner],
  ];
  const inputDay = (key: 'from' | 'to', fallback: string): string => (errors.length && typeof raw[key] === 'string' ? (raw[key] as string) : fallback);

  const body = html`<h1>Program</h1>
<p class="lede">How the partner program performs from <strong>${day(m.from)}</strong> to <strong>${day(m.to)}</strong> (both days included): deals closed in the period with a partner and without, and the partners who joined, stayed and left. Definitions: docs/metrics.md.</p>
${errorSummary(errors, 'Please correct the period')}
<section class="card" aria-labelledby="period-h"><h2 id="period-h">Period</h2>
<form class="filters" method="get" action="/program">
<div class="field"><label for="p-from">From</label><input type="date" id="p-from" name="from" value="${inputDay('from', day(m.from))}"></div>
<div class="field"><label for="p-to">To</label><input type="date" id="p-to" name="to" value="${inputDay('to', day(m.to))}"></div>
<div class="actions"><button class="btn" type="submit">Show period</button></div>
</form>
<p class="small">Quick periods: ${presets(now).map((pr, i) => html`${i > 0 ? ' · ' : ''}<a href="${href('/program', { from: pr.from, to: pr.to })}">${pr.label}</a>`)}</p>
</section>
<section class="card" aria-labelledby="revenue-h"><h2 id="revenue-h">Partner contribution</h2>
<dl class="stats" id="program-stats">
${stat('Partner attach rate', percent(d.attachRate), `${d.withPartner.wonDeals} of ${d.wonDeals} won deals had a partner`)}
${stat('Partner-sourced won revenue', amount(d.sourced.wonRevenue), `${d.sourced.wonDeals} deals`)}
${stat('Partner-influenced won revenue', amount(d.influenced.wonRevenue), `${d.influenced.wonDeals} deals`)}
${stat('All won revenue', amount(d.wonRevenue), `${d.wonDeals} deals`)}
</dl>
</section>
<section class="card" aria-labelledby="compare-h"><h2 id="compare-h">With a partner and without</h2>
<ul class="legend" aria-hidden="true"><li><span class="swatch swatch-partner"></span>With a partner</li><li><span class="swatch swatch-direct"></span>Direct</li></ul>
<div class="grid grid-3">
<div>${pairBars('pair-size', 'Average won deal size', d.withPartner.averageDealSize, d.withoutPartner.averageDealSize, amount)}</div>
<div>${pairBars('pair-cycle', 'Average sales cycle of won deals', d.withPartner.averageCycleDays, d.withoutPartner.averageCycleDays, days)}</div>
<div>${pairBars('pair-win', 'Win rate of closed deals', d.withPartner.winRate, d.withoutPartner.winRate, (v) => percent(v))}</div>
</div>
<table id="program-compare"><caption class="visually-hidden">Deals closed in the period, with a partner and direct</caption>
<thead><tr><th scope="col">Deals closed in the period</th><th scope="col" class="num">Won</th><th scope="col" class="num">Lost</th><th scope="col" class="num">Win rate</th><th scope="col" class="num">Won revenue</th><th scope="col" class="num">Average deal size</th><th scope="col" class="num">Average cycle</th></tr></thead>
<tbody>${segments.map(([label, s]) => html`<tr><th scope="row">${label}</th><td class="num">${s.wonDeals}</td><td class="num">${s.lostDeals}</td><td class="num">${percent(s.winRate)}</td><td class="num">${amount(s.wonRevenue)}</td><td class="num">${amount(s.averageDealSize)}</td><td class="num">${days(s.averageCycleDays)}</td></tr>`)}</tbody></table>
</section>
<section class="card" aria-labelledby="partners-h"><h2 id="partners-h">Partners</h2>
<dl class="stats">
${stat('Retention rate', percent(p.retentionRate), `${p.retained} of ${p.activeAtFrom} active at the start stayed`)}
${stat('Active at the end', String(p.activeAtTo), `${p.activeAtFrom} at the start`)}
${stat('Joined', String(p.joined))}
${stat('Churned', String(p.churned))}
${stat('Median time to first deal', days(m.timeToFirstDeal.medianDays), `${m.timeToFirstDeal.withDeal} of ${m.timeToFirstDeal.partnersJoined} new partners have a deal`)}
</dl>
</section>`;
  return respond(c, layout({ title: 'Program', session, active: 'program', body }), errors.length ? 400 : 200);
}
