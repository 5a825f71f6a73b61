import { z } from 'zod';
import { partnerIdSchema } from '../../../../data/schemas/common';
import { BENCHMARK_METRICS } from '../../../../models/benchmarks/benchmark-metrics';
import { effectiveK, type PeerBenchmark } from '../../../../models/benchmarks/peer-benchmark';
import { partnerBenchmark } from '../../routes/partner-benchmarks';
import { validParams } from '../../validate';
import { MIRRORS, mayUse } from '../access';
import { quartileBar } from '../charts';
import { day, inUnit } from '../format';
import { html, type Html } from '../html';
import { layout, respond, sessionOf, type DashContext } from '../layout';

const LABEL_OF = new Map<string, string>(BENCHMARK_METRICS.map((m) => [m.metric, m.label]));

/** Where the partner stands among its peers, in words (no judgement: for some metrics lower is better); read off the quartiles only. */
export function standing(m: { value: number | null; percentile: number | null; p25: number; p50: number; p75: number }): string {
  const { value, percentile } = m;
  if (value === null || percentile === null) return 'no value';
  // A value equal to a quartile reads as that quartile (with ties, the median first).
  if (value === m.p50) return 'at the median';
  if (value === m.p25) return 'at the lower quartile';
  if (value === m.p75) return 'at the upper quartile';
  if (percentile < 25) return 'bottom quarter';
  if (percentile === 25) return 'at the lower quartile';
  if (percentile < 50) return 'below the median';
  if (percentile === 50) return 'at the median';
  if (percentile < 75) return 'above the median';
  if (percentile === 75) return 'at the upper quartile';
  return 'top quarter';
}

function cohortText(b: PeerBenchmark): Html {
  const c = b.cohort!;
  return html`Compared with <strong>${c.size}</strong> other active partners in tier <strong>${c.tier}</strong>, ${c.region ? html`region <strong>${c.region}</strong>` : 'all regions'} and ${
    c.segment ? html`segment <strong>${c.segment}</strong>` : 'all segments'
  }, over the 90 days up to ${b.asOf}.`;
}

/**
 * A peer benchmark as the API returns it: quartile bars with the partner's own marker, the cohort
 * in words, and each withheld metric explained. Drawn from the response only, so the page can show
 * nothing about peers that the API would not.
 */
export function benchmarkSection(b: PeerBenchmark, k: number, idPrefix: string, you: string): Html {
  if (b.cohort === null) {
    const why =
      b.reason === 'partner_not_active'
        ? 'Benchmarks compare active members of the program, and this partner was not active on that day.'
        : `Even the whole tier holds fewer than ${k} other active partners, so any figure could reveal a single peer. The benchmark appears once the tier is large enough.`;
    return html`<div class="notice notice-info" role="status" id="${idPrefix}-withheld-all"><strong>No benchmark as of ${b.asOf}.</strong> ${why}</div>`;
  }
  const withheld = b.withheld.map((m) => LABEL_OF.get(m) ?? m);
  return html`
<p id="${idPrefix}-cohort">${cohortText(b)}</p>
<p class="small muted">The service chooses the peers, never the viewer: same tier, region and segment, widened (segment dropped, then region) until at least ${k} other partners are in it. Peer values are rounded to two significant figures before the quartiles are taken, the lowest and highest peer are never used, and no peer is named.</p>
<ul class="legend" aria-hidden="true"><li><span class="swatch swatch-iqr"></span>Middle half of peers (25th–75th percentile)</li><li><span class="swatch swatch-median"></span>Peers' median</li><li><span class="swatch swatch-own"></span>${you}</li></ul>
<div class="table-wrap" tabindex="0" role="region" aria-label="Benchmark table">
<table id="${idPrefix}-table">
<caption class="visually-hidden">Benchmarks against peers, last 90 days</caption>
<thead><tr><th scope="col">Metric</th><th scope="col">Compared with peers</th><th scope="col" class="num">${you}</th><th scope="col" class="num">Peers, lower quartile</th><th scope="col" class="num">Median</th><th scope="col" class="num">Upper quartile</th><th scope="col">Standing</th></tr></thead>
<tbody>${b.metrics.map(
    (m) => html`<tr class="bench-row" data-metric="${m.metric}">
<th scope="row">${m.label}</th>
<td>${quartileBar(`${idPrefix}-${m.metric}`, { label: m.label, value: m.value, p25: m.p25, p50: m.p50, p75: m.p75 }, (v) => inUnit(m.unit, v))}</td>
<td class="num">${inUnit(m.unit, m.value)}</td><td class="num">${inUnit(m.unit, m.p25)}</td><td class="num">${inUnit(m.unit, m.p50)}</td><td class="num">${inUnit(m.unit, m.p75)}</td>
<td>${standing(m)}</td>
</tr>`,
  )}</tbody>
</table>
</div>
${
  withheld.length
    ? html`<h3>Withheld</h3><p>Fewer than ${k} of the peers have a value for ${withheld.length === 1 ? 'this metric' : 'these metrics'}, so ${withheld.length === 1 ? 'its' : 'their'} quartiles could reveal a single peer's number:</p><ul id="${idPrefix}-withheld">${withheld.map((w) => html`<li>${w}</li>`)}</ul>`
    : ''
}`;
}

const params = z.object({ id: partnerIdSchema });

/** GET /partners/:id/benchmarks: the partner's own view (a partner key sees only its own; admin and ops any). */
export async function benchmarksPage(c: DashContext): Promise<Response> {
  const session = sessionOf(c);
  const deps = c.get('deps');
  const { id } = validParams(c, params);
  const [benchmark, partners] = await Promise.all([partnerBenchmark(deps, id), deps.history.getPartners([id])]);
  const own = session.principal.partnerId === id;
  const name = partners.get(id)?.name ?? id;
  const k = effectiveK(deps.config.benchmarkK);
  const body = html`
<h1>${own ? 'Your peer benchmarks' : `Peer benchmarks of ${name}`}</h1>
<p class="lede">How ${own ? html`<strong>${name}</strong> (${id})` : html`this partner`} compares with similar partners in the program, as of ${day(benchmark.asOf)}.${
    !own && mayUse(session.principal, MIRRORS.partner, { id }) ? html` <a href="/partners/${encodeURIComponent(id)}">Back to the partner page</a>.` : ''
  } ${!own ? 'This is exactly what the partner sees with its own key.' : ''}</p>
<section class="card" aria-labelledby="bench-h"><h2 id="bench-h">Benchmarks, last 90 days</h2>
${benchmarkSection(benchmark, k, 'bench', own ? 'You' : 'This partner')}
</section>`;
  return respond(c, layout({ title: own ? 'Your benchmarks' : `Benchmarks of ${name}`, session, active: own ? 'benchmarks' : 'partner', body }));
}
