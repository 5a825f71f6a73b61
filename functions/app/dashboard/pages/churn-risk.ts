import { z } from 'zod';
import { ValidationError } from '../../../../data/errors';
import { shortLabelSchema, toFieldErrors, type FieldError } from '../../../../data/schemas/common';
import type { RunRecord } from '../../../../data/stores/score-store';
import { runFor } from '../../../../models/score-queries';
import type { ServiceDeps } from '../../../deps';
import { churnRiskCsv, readChurnRisk, type ChurnRiskItem, type ChurnRiskQuery } from '../../routes/churn-risk';
import { MIRRORS, mayUse } from '../access';
import { day, percent, points } from '../format';
import { href, html, type Html } from '../html';
import { bandBadge, errorSummary, layout, respond, sessionOf, type DashContext } from '../layout';

const PAGE_SIZES = ['25', '50', '100'] as const;

const filtersSchema = z.object({
  tier: shortLabelSchema.optional(),
  region: shortLabelSchema.optional(),
  segment: shortLabelSchema.optional(),
  min: z.coerce.number().min(0, 'must be from 0 to 100').max(100, 'must be from 0 to 100').optional(),
  size: z.enum(PAGE_SIZES).default('25'),
  cursor: z.string().min(1).max(4096).optional(),
  p: z.coerce.number().int().min(1).max(1_000_000).default(1),
});
type Filters = z.output<typeof filtersSchema>;

const LABELS: Record<string, string> = { tier: 'Tier', region: 'Region', segment: 'Segment', min: 'Minimum churn probability', size: 'Rows per page', cursor: 'Page', p: 'Page' };

/** The page's query: empty form fields are "any"; an invalid one is reported, never silently dropped. */
function readFilters(c: DashContext): { filters: Filters; errors: FieldError[]; rawMin?: string } {
  const raw = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ''));
  const parsed = filtersSchema.safeParse(raw);
  if (parsed.success) return { filters: parsed.data, errors: [] };
  const errors = toFieldErrors(parsed.error).map((e) => ({ path: LABELS[e.path] ?? e.path, message: e.message }));
  const bad = new Set(parsed.error.issues.map((i) => String(i.path[0])));
  const kept = Object.fromEntries(Object.entries(raw).filter(([k]) => !bad.has(k)));
  return { filters: filtersSchema.parse(kept), errors, ...(bad.has('min') && typeof raw.min === 'string' ? { rawMin: raw.min } : {}) };
}

const apiQuery = (f: Filters, limit: number, cursor?: string): ChurnRiskQuery => ({
  ...(f.tier ? { tier: f.tier } : {}),
  ...(f.region ? { region: f.region } : {}),
  ...(f.segment ? { segment: f.segment } : {}),
  ...(f.min !== undefined ? { minProbability: f.min / 100 } : {}),
  limit,
  ...(cursor ? { cursor } : {}),
});

const filterParams = (f: Filters) => ({ tier: f.tier, region: f.region, segment: f.segment, min: f.min, size: f.size === '25' ? undefined : f.size });

interface Facets {
  tiers: string[];
  regions: string[];
  segments: string[];
}

/** The tiers, regions and segments of a run, for the filter menus; a completed run never changes, so it is read once. */
const facetCache = new Map<string, Promise<Facets>>();
function runFacets(deps: ServiceDeps, run: RunRecord): Promise<Facets> {
  const key = `${run.runId}|${run.completedAt ?? ''}`;
  let entry = facetCache.get(key);
  if (!entry) {
    entry = (async () => {
      const [tiers, regions, segments] = [new Set<string>(), new Set<string>(), new Set<string>()];
      let cursor: string | undefined;
      do {
        const page = await deps.scores.rankedPage(run.runId, {}, 1000, cursor);
        for (const s of page.items) [tiers.add(s.tier), regions.add(s.region), segments.add(s.segment)];
        cursor = page.nextCursor;
      } while (cursor);
      const sorted = (s: Set<string>) => [...s].sort();
      return { tiers: sorted(tiers), regions: sorted(regions), segments: sorted(segments) };
    })();
    entry.catch(() => facetCache.delete(key));
    if (facetCache.size > 8) facetCache.delete(facetCache.keys().next().value as string);
    facetCache.set(key, entry);
  }
  return entry;
}

function select(name: string, label: string, options: readonly string[], value: string | undefined, anyLabel: string): Html {
  const opts = value && !options.includes(value) ? [...options, value] : options;
  return html`<div class="field"><label for="f-${name}">${label}</label><select id="f-${name}" name="${name}"><option value="">${anyLabel}</option>${opts.map((o) => html`<option value="${o}"${o === value ? html` selected` : ''}>${o}</option>`)}</select></div>`;
}

export function changeCell(change: number | null): Html {
  if (change === null) return html`<span class="change-none">new<span class="visually-hidden"> (not scored in the previous run)</span></span>`;
  if (Math.abs(change) < 0.0005) return html`<span class="change-none"><span aria-hidden="true">→ </span>${points(0)}<span class="visually-hidden"> (unchanged since the previous run)</span></span>`;
  return change > 0
    ? html`<span class="change-up"><span aria-hidden="true">▲ </span>${points(change)}<span class="visually-hidden"> (risk up since the previous run)</span></span>`
    : html`<span class="change-down"><span aria-hidden="true">▼ </span>${points(change)}<span class="visually-hidden"> (risk down since the previous run)</span></span>`;
}

/** Drivers in words, with the direction each pushes the probability. */
export function driverList(drivers: readonly { label: string; effect: number }[], limit: number, raises = 'raises risk', lowers = 'lowers risk'): Html {
  if (drivers.length === 0) return html`<span class="muted">No single feature stands out.</span>`;
  return html`<ul class="drivers">${drivers.slice(0, limit).map(
    (d) =>
      html`<li>${d.effect > 0 ? html`<span class="dir-up" aria-hidden="true">↑</span>` : html`<span class="dir-down" aria-hidden="true">↓</span>`} <span class="visually-hidden">${d.effect > 0 ? raises : lowers}: </span>${d.label}</li>`,
  )}</ul>`;
}

const probabilityBar = (p: number): Html =>
  html`<svg class="probbar" width="64" height="8" viewBox="0 0 64 8" aria-hidden="true" focusable="false"><rect x="0" y="0" width="64" height="8" rx="2" fill="#eceff3"/><rect x="0" y="0" width="${Math.max(1, Math.round(p * 64))}" height="8" rx="2" fill="${p >= 0.25 ? '#b42318' : p >= 0.1 ? '#c27803' : '#3f8f5b'}"/></svg>`;

function rows(items: readonly ChurnRiskItem[], offset: number, linkPartners: boolean): Html {
  return html`${items.map(
    (i, k) => html`<tr data-partner-id="${i.partnerId}" data-tier="${i.tier}">
<td class="num">${offset + k + 1}</td>
<td>${linkPartners ? html`<a href="/partners/${encodeURIComponent(i.partnerId)}">${i.name}</a>` : i.name}<br><span class="muted small">${i.partnerId} · ${i.tier} · ${i.region} · ${i.segment}</span></td>
<td>${bandBadge(i.riskBand)}</td>
<td class="num prob">${percent(i.probability)}${probabilityBar(i.probability)}</td>
<td class="num">${changeCell(i.change)}</td>
<td>${driverList(i.drivers, 3)}</td>
</tr>`,
  )}`;
}

/** GET /churn-risk: the ranked list of the latest scoring run, filtered and paged. */
export async function churnRiskPage(c: DashContext): Promise<Response> {
  const session = sessionOf(c);
  const deps = c.get('deps');
  const { filters, errors, rawMin } = readFilters(c);
  const run = await runFor(deps.scores);
  const size = Number(filters.size);
  let result: Awaited<ReturnType<typeof readChurnRisk>> | undefined;
  try {
    result = await readChurnRisk(deps, apiQuery(filters, size, filters.cursor));
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    errors.push({ path: 'Page', message: 'that link has expired; showing the first page' });
    result = await readChurnRisk(deps, apiQuery(filters, size));
    filters.p = 1;
  }
  const facets = run ? await runFacets(deps, run) : { tiers: [], regions: [], segments: [] };
  const offset = (filters.p - 1) * size;
  const linkPartners = mayUse(session.principal, MIRRORS.partner);
  const bands = deps.bands.churn;
  const params = filterParams(filters);
  const filtered = [filters.tier && `tier ${filters.tier}`, filters.region && `region ${filters.region}`, filters.segment && `segment ${filters.segment}`, filters.min !== undefined && `churn probability at least ${filters.min}%`].filter(Boolean).join(', ');

  const body = html`
<h1>Churn risk</h1>
<p class="lede">Active partners ranked by the probability that they leave the program within the next 90 days${
    result.asOf ? html`, from the scoring run as of <strong>${day(result.asOf)}</strong> (churn model ${result.modelVersion ?? '–'})` : ''
  }. Change is against each partner's previous run; drivers are what moves its score most against its peers.</p>
${errorSummary(errors)}
<section class="card" aria-labelledby="filters-h">
<h2 id="filters-h">Filters</h2>
<form class="filters" method="get" action="/churn-risk">
${select('tier', 'Tier', facets.tiers, filters.tier, 'All tiers')}
${select('region', 'Region', facets.regions, filters.region, 'All regions')}
${select('segment', 'Segment', facets.segments, filters.segment, 'All segments')}
<div class="field"><label for="f-min">Min. churn probability (%)</label><input type="number" id="f-min" name="min" min="0" max="100" step="any" inputmode="decimal" value="${rawMin ?? filters.min ?? ''}"${rawMin !== undefined ? html` aria-invalid="true"` : ''}></div>
<div class="field"><label for="f-size">Rows per page</label><select id="f-size" name="size">${PAGE_SIZES.map((s) => html`<option value="${s}"${s === filters.size ? html` selected` : ''}>${s}</option>`)}</select></div>
<div class="actions"><button class="btn" type="submit">Apply filters</button><a class="btn btn-secondary" href="/churn-risk">Reset</a></div>
</form>
</section>
<section class="card" aria-labelledby="list-h">
<div class="pager"><h2 id="list-h">Ranked partners</h2>
<a class="btn btn-secondary" href="${href('/churn-risk/export', { tier: filters.tier, region: filters.region, segment: filters.segment, min: filters.min })}" download>Export CSV<span class="visually-hidden"> of every partner matching these filters</span></a></div>
${
  !run
    ? html`<p class="notice notice-info">No scoring run has completed yet. Start one with <code>POST /v1/scoring/runs</code> (admin or ops).</p>`
    : result.items.length === 0
      ? html`<p class="notice notice-info" role="status">No partner matches these filters${filters.p > 1 ? ' on this page' : ''}.</p>`
      : html`<p class="muted small" role="status" id="list-status">Rows ${offset + 1}–${offset + result.items.length}${filtered ? html` · ${filtered}` : ''}. Bands: high ≥ ${percent(bands.high, 0)}, medium ≥ ${percent(bands.medium, 0)}.</p>
<div class="table-wrap" tabindex="0" role="region" aria-label="Ranked partners table">
<table id="churn-table">
<caption class="visually-hidden">Partners by churn probability, highest first</caption>
<thead><tr><th scope="col" class="num">#</th><th scope="col" class="col-partner">Partner <span class="muted small">(id · tier · region · segment)</span></th><th scope="col">Band</th><th scope="col" class="num">Churn probability</th><th scope="col" class="num">Change</th><th scope="col" class="col-drivers">Top drivers</th></tr></thead>
<tbody>${rows(result.items, offset, linkPartners)}</tbody>
</table>
</div>`
}
<nav class="pager" aria-label="Pages">
<span>${filters.p > 1 ? html`<a href="${href('/churn-risk', params)}">First page</a>` : ''}</span>
<span>${result.nextCursor ? html`<a href="${href('/churn-risk', { ...params, cursor: result.nextCursor, p: filters.p + 1 })}" rel="next">Next page <span aria-hidden="true">→</span></a>` : ''}</span>
</nav>
</section>`;
  return respond(c, layout({ title: 'Churn risk', session, active: 'churn-risk', body }), errors.length ? 400 : 200);
}

/** At most this many rows in one export (every partner of a large program). */
const EXPORT_MAX_ROWS = 200_000;

/** GET /churn-risk/export: every row of the current filters, as the API's CSV. */
export async function churnRiskExport(c: DashContext): Promise<Response> {
  const deps = c.get('deps');
  const { filters, errors } = readFilters(c);
  if (errors.length) throw new ValidationError(`The filters are invalid: ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors);
  const items: ChurnRiskItem[] = [];
  let asOf: string | null = null;
  let cursor: string | undefined;
  do {
    const page = await readChurnRisk(deps, apiQuery(filters, 1000, cursor));
    asOf ??= page.asOf;
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && items.length < EXPORT_MAX_ROWS);
  return c.body(churnRiskCsv(items), 200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="churn-risk-${asOf ? day(asOf) : 'none'}.csv"`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
}
