import { z } from 'zod';
import { NotFoundError } from '../../../../data/errors';
import { partnerIdSchema } from '../../../../data/schemas/common';
import type { ScoreDetail } from '../../../../data/stores/score-store';
import { effectiveK } from '../../../../models/benchmarks/peer-benchmark';
import { loadHistory } from '../../../../models/load-histories';
import { partnerScoresView, type PartnerScoresView } from '../../../../models/score-queries';
import { partnerBenchmark } from '../../routes/partner-benchmarks';
import { validParams } from '../../validate';
import { activitySummary, type DealWindow } from '../activity';
import { probabilityHistoryChart } from '../charts';
import { amount, day, num, percent, points } from '../format';
import { html, type Html } from '../html';
import { bandBadge, layout, respond, sessionOf, type DashContext } from '../layout';
import { benchmarkSection } from './benchmarks';
import { changeCell } from './churn-risk';

const params = z.object({ id: partnerIdSchema });

function scoreCard(title: string, detail: ScoreDetail | null, kind: 'risk' | 'likelihood', extra: Html, none: string): Html {
  return html`<section class="card" aria-labelledby="card-${kind}"><h2 id="card-${kind}">${title}</h2>${
    detail
      ? html`<p class="score-big" id="${kind}-probability">${percent(detail.probability)}</p><p>${bandBadge(detail.riskBand, kind)} ${extra}</p><p class="small muted">Model version ${detail.modelVersion}</p>`
      : html`<p class="muted">${none}</p>`
  }</section>`;
}

function driversCard(id: string, title: string, detail: ScoreDetail | null, raises: string, lowers: string): Html {
  if (!detail) return html``;
  return html`<section class="card" aria-labelledby="${id}-h"><h2 id="${id}-h">${title}</h2>${
    detail.drivers.length === 0
      ? html`<p class="muted">No single feature moves this score much: the partner looks like its peers.</p>`
      : html`<table id="${id}"><caption class="visually-hidden">${title}</caption><thead><tr><th scope="col">What</th><th scope="col" class="num">Effect</th></tr></thead><tbody>${detail.drivers.map(
          (d) =>
            html`<tr><td>${d.effect > 0 ? html`<span class="dir-up" aria-hidden="true">↑</span>` : html`<span class="dir-down" aria-hidden="true">↓</span>`} <span class="visually-hidden">${d.effect > 0 ? raises : lowers}: </span>${d.label}</td><td class="num">${points(d.effect)}</td></tr>`,
        )}</tbody></table><p class="small muted">Effect: how much the probability moves when this one feature is set to the median of the partner's peers.</p>`
  }</section>`;
}

function historySection(scores: PartnerScoresView): Html {
  const points = scores.history.map((h) => ({ asOf: h.asOf, churn: h.churn?.probability ?? null, topPerformer: h.topPerformer?.probability ?? null }));
  const hasTop = points.some((p) => p.topPerformer !== null);
  return html`<section class="card" aria-labelledby="history-h"><h2 id="history-h">History</h2>
${probabilityHistoryChart('history-chart', points)}
<ul class="legend" aria-hidden="true"><li><span class="swatch swatch-churn"></span>Churn probability</li>${hasTop ? html`<li><span class="swatch swatch-top"></span>Top-performer probability</li>` : ''}</ul>
<details class="data"><summary>Scores by run (table)</summary>
<table id="history-table"><caption class="visually-hidden">Scores by scoring run, newest first</caption><thead><tr><th scope="col">Run as of</th><th scope="col" class="num">Churn</th><th scope="col">Band</th><th scope="col" class="num">Top performer</th></tr></thead>
<tbody>${scores.history.map((h) => html`<tr><td>${day(h.asOf)}</td><td class="num">${percent(h.churn?.probability)}</td><td>${h.churn?.riskBand ?? '–'}</td><td class="num">${h.topPerformer ? percent(h.topPerformer.probability) : '–'}</td></tr>`)}</tbody></table>
</details></section>`;
}

const windowRow = (label: string, w: DealWindow): Html =>
  html`<tr><th scope="row">${label}</th><td class="num">${w.won}</td><td class="num">${w.lost}</td><td class="num">${percent(w.winRate, 0)}</td><td class="num">${amount(w.wonSourced)}</td><td class="num">${amount(w.wonInfluenced)}</td></tr>`;

/** GET /partners/:id: scores, history, drivers, raw activity and benchmarks of one partner (admin, ops). */
export async function partnerPage(c: DashContext): Promise<Response> {
  const session = sessionOf(c);
  const deps = c.get('deps');
  const { id } = validParams(c, params);
  const partner = (await deps.history.getPartners([id])).get(id);
  if (!partner) throw new NotFoundError(`No partner ${id}.`);
  const now = Date.now();
  const [scores, history, benchmark] = await Promise.all([
    partnerScoresView(deps.scores, id).catch((error: unknown) => {
      if (error instanceof NotFoundError) return null;
      throw error;
    }),
    loadHistory(deps.history, partner),
    partnerBenchmark(deps, id),
  ]);
  const activity = activitySummary(history, now);
  const k = effectiveK(deps.config.benchmarkK);
  const top = scores?.topPerformer ?? null;

  const body = html`
<p class="small"><a href="/churn-risk">← Churn risk</a></p>
<h1>${partner.name}</h1>
<p class="lede">${partner.partnerId} · tier ${partner.tier} · ${partner.region} · ${partner.segment} · joined ${day(partner.joinedAt)} · ${
    partner.status === 'churned' ? html`<strong>churned ${day(partner.churnedAt)}</strong>` : 'active'
  }${scores ? html` · scores as of the run of ${day(scores.asOf)}` : ''}</p>
<div class="grid grid-2">
${scoreCard('Churn risk, next 90 days', scores?.churn ?? null, 'risk', html`<span>${scores ? changeCell(scores.change) : ''}</span>`, 'Not scored: the partner was not active at any completed scoring run.')}
${scoreCard('Top-performer likelihood', top, 'likelihood', html``, scores ? 'Not scored: top-performer likelihood is for partners in their first 365 days.' : 'Not scored yet.')}
</div>
${scores ? historySection(scores) : ''}
<div class="grid grid-2">
${driversCard('churn-drivers', 'What drives churn risk', scores?.churn ?? null, 'raises risk', 'lowers risk')}
${driversCard('top-drivers', 'What drives top-performer likelihood', top, 'raises likelihood', 'lowers likelihood')}
</div>
<section class="card" aria-labelledby="activity-h"><h2 id="activity-h">Activity</h2>
<dl class="stats">
<div class="stat"><dt>Last activity</dt><dd>${day(activity.lastActivityAt)}</dd></div>
<div class="stat"><dt>Open pipeline</dt><dd>${amount(activity.deals.open.amount)}<span class="sub">${activity.deals.open.count} open deals</span></dd></div>
<div class="stat"><dt>Win rate, 365 days</dt><dd>${percent(activity.deals.last365.winRate, 0)}<span class="sub">${activity.deals.last365.won} won, ${activity.deals.last365.lost} lost</span></dd></div>
<div class="stat"><dt>Sourced won revenue, 365 days</dt><dd>${amount(activity.deals.last365.wonSourced)}</dd></div>
<div class="stat"><dt>NPS, 365 days</dt><dd>${num(activity.nps.average)}<span class="sub">${activity.nps.responses} responses</span></dd></div>
</dl>
<div class="grid grid-2">
<div><h3 id="events-h">Engagement</h3>
<table id="activity-events"><caption class="visually-hidden">Events by type</caption><thead><tr><th scope="col">Event</th><th scope="col" class="num">90 days</th><th scope="col" class="num">365 days</th><th scope="col" class="num">All time</th><th scope="col">Last</th></tr></thead>
<tbody>${activity.events.map((e) => html`<tr><th scope="row">${e.label}</th><td class="num">${num(e.last90)}</td><td class="num">${num(e.last365)}</td><td class="num">${num(e.total)}</td><td>${day(e.lastAt)}</td></tr>`)}</tbody></table></div>
<div><h3>Deals</h3>
<table id="activity-deals"><caption class="visually-hidden">Deals closed, by period, and their won revenue</caption><thead><tr><th scope="col">Closed in</th><th scope="col" class="num">Won</th><th scope="col" class="num">Lost</th><th scope="col" class="num">Win rate</th><th scope="col" class="num">Sourced</th><th scope="col" class="num">Influenced</th></tr></thead>
<tbody>${windowRow('90 days', activity.deals.last90)}${windowRow('365 days', activity.deals.last365)}</tbody></table>
<p class="small muted">Sourced and influenced: won revenue, in the reporting currency. ${activity.deals.total} deals registered in all${activity.deals.lastCreatedAt ? `; the latest on ${day(activity.deals.lastCreatedAt)}` : ''}.</p></div>
</div>
</section>
<section class="card" aria-labelledby="bench-h"><h2 id="bench-h">Peer benchmarks</h2>
${benchmarkSection(benchmark, k, 'bench', 'This partner')}
<p class="small"><a href="/partners/${encodeURIComponent(id)}/benchmarks">The partner's own view of these benchmarks</a></p>
</section>`;
  return respond(c, layout({ title: partner.name, session, active: 'partner', body }));
}
