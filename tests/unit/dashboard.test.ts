import { describe, expect, it } from 'vitest';
import { activitySummary } from '../../functions/app/dashboard/activity';
import { niceCeil, probabilityHistoryChart, probabilityTop, quartileBar, ticks } from '../../functions/app/dashboard/charts';
import { href, html, trusted } from '../../functions/app/dashboard/html';
import { standing } from '../../functions/app/dashboard/pages/benchmarks';
import { safeNext } from '../../functions/app/dashboard/pages/sign-in';
import { csrfMatches, csrfToken, sessionCookieValue, verifySessionCookie } from '../../functions/app/dashboard/session';
import type { Principal } from '../../data/auth/api-keys';
import type { Deal } from '../../data/schemas/deal';
import type { PartnerEvent } from '../../data/schemas/event';
import type { PartnerHistory } from '../../models/types';

describe('dashboard html', () => {
  it('escapes every interpolated string, keeps markup made by the tag, flattens lists and drops false/null', () => {
    const name = `<script>alert("x")</script>&'`;
    const out = html`<p title="${name}">${name}${html`<b>${'ok'}</b>`}${[1, ' ', html`<i>2</i>`]}${false}${null}${undefined}</p>`.text;
    expect(out).toBe('<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;<b>ok</b>1 <i>2</i></p>');
    expect(html`${NaN}${Infinity}`.text).toBe('');
    expect(html`${trusted('<hr>')}`.text).toBe('<hr>');
  });

  it('builds links with encoded query values and no empty ones', () => {
    expect(href('/churn-risk', { tier: 'a&b c', region: '', segment: undefined, min: 0 })).toBe('/churn-risk?tier=a%26b+c&min=0');
    expect(href('/models')).toBe('/models');
  });

  it('returns after sign-in only to a path of this site', () => {
    for (const ok of ['/churn-risk', '/program?from=2025-01-01&to=2025-02-01', '/partners/P-1%2F2/benchmarks']) expect(safeNext(ok), ok).toBe(ok);
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', 'churn-risk', '/sign-out', '/x"><script>', 42, undefined]) expect(safeNext(bad), String(bad)).toBeUndefined();
  });
});

describe('dashboard sessions', () => {
  const principal: Principal = { keyId: 'key_0123456789abcdef0123', role: 'ops' };
  const keyHash = 'a'.repeat(64);
  const keys = (active: boolean, hash = keyHash) => ({ activeKey: async (id: string) => (active && id === principal.keyId ? { principal, keyHash: hash } : undefined) });
  const now = 1_800_000_000;

  it('accepts its own cookie until it expires, and nothing else', async () => {
    const cookie = sessionCookieValue(principal.keyId, keyHash, now + 60);
    expect(cookie).toMatch(/^key_0123456789abcdef0123\.1800000060\.[A-Za-z0-9_-]{43}$/);
    expect((await verifySessionCookie(keys(true), cookie, now))?.principal).toEqual(principal);
    expect(await verifySessionCookie(keys(true), cookie, now + 60)).toBeUndefined(); // expired
    expect(await verifySessionCookie(keys(false), cookie, now)).toBeUndefined(); // revoked or unknown key
    expect(await verifySessionCookie(keys(true, 'b'.repeat(64)), cookie, now)).toBeUndefined(); // signed with another hash
    const [id, , sig] = cookie.split('.');
    expect(await verifySessionCookie(keys(true), `${id}.${now + 9999}.${sig}`, now)).toBeUndefined(); // expiry moved
    for (const junk of [undefined, '', 'x', `${cookie}.x`, cookie.replace('key_', 'kex_'), 'a'.repeat(300)]) expect(await verifySessionCookie(keys(true), junk, now)).toBeUndefined();
  });

  it('binds the CSRF token to the session cookie and the key', async () => {
    const a = (await verifySessionCookie(keys(true), sessionCookieValue(principal.keyId, keyHash, now + 60), now))!;
    const b = (await verifySessionCookie(keys(true), sessionCookieValue(principal.keyId, keyHash, now + 61), now))!;
    expect(csrfMatches(a, csrfToken(a))).toBe(true);
    expect(csrfMatches(a, csrfToken(b))).toBe(false);
    expect(csrfMatches(a, undefined)).toBe(false);
    expect(csrfMatches(a, '')).toBe(false);
  });
});

describe('dashboard activity summary', () => {
  const DAY = 86_400_000;
  const at = Date.parse('2025-06-30T23:59:59.999Z');
  const ago = (days: number): string => new Date(at - days * DAY).toISOString();
  const ev = (type: PartnerEvent['type'], days: number, extra: Partial<PartnerEvent> = {}): PartnerEvent => ({ eventId: `${type}-${days}`, partnerId: 'P', type, occurredAt: ago(days), quantity: 1, ...extra });
  const deal = (id: string, stage: Deal['stage'], createdDays: number, closedDays: number | undefined, amount: number, role: Deal['partnerRole'] = 'sourced'): Deal => ({
    dealId: id,
    partnerId: 'P',
    partnerRole: role,
    amount,
    stage,
    createdAt: ago(createdDays),
    ...(closedDays !== undefined ? { closedAt: ago(closedDays) } : {}),
    updatedAt: ago(Math.min(createdDays, closedDays ?? createdDays)),
  });
  const history: PartnerHistory = {
    partner: { partnerId: 'P', name: 'P', tier: 'gold', region: 'EMEA', segment: 'SMB', joinedAt: '2023-01-01', status: 'active' } as PartnerHistory['partner'],
    events: [ev('portal_login', 400), ev('portal_login', 100, { quantity: 3 }), ev('portal_login', 10), ev('nps_response', 20, { value: 9 }), ev('nps_response', 200, { value: 5 }), ev('nps_response', 500, { value: 0 }), ev('portal_login', -1)],
    deals: [deal('won-recent', 'won', 60, 30, 1000), deal('won-influenced', 'won', 200, 150, 500, 'influenced'), deal('lost', 'lost', 100, 80, 700), deal('open', 'open', 10, undefined, 300), deal('won-later', 'won', 5, -2, 900), deal('future', 'open', -3, undefined, 50)],
  };

  it('counts events and deals in the trailing 90 and 365 days, by the records’ own times', () => {
    const s = activitySummary(history, at);
    const logins = s.events.find((e) => e.type === 'portal_login')!;
    expect(logins).toMatchObject({ last90: 1, last365: 4, total: 5, lastAt: ago(10) }); // the event after `at` is not there yet
    expect(s.events).toHaveLength(9);
    expect(s.nps).toEqual({ responses: 2, average: 7 });
    // A deal won after `at` is still open then; a deal created after `at` does not exist yet.
    expect(s.deals.total).toBe(5);
    expect(s.deals.open).toEqual({ count: 2, amount: 1200 });
    expect(s.deals.last90).toEqual({ won: 1, lost: 1, wonSourced: 1000, wonInfluenced: 0, winRate: 0.5 });
    expect(s.deals.last365).toEqual({ won: 2, lost: 1, wonSourced: 1000, wonInfluenced: 500, winRate: 2 / 3 });
    expect(s.lastActivityAt).toBe(ago(5));
  });

  it('reports nothing rather than zeros where there is nothing to rate', () => {
    const s = activitySummary({ ...history, events: [], deals: [] }, at);
    expect(s.nps.average).toBeNull();
    expect(s.deals.last90.winRate).toBeNull();
    expect(s.lastActivityAt).toBeNull();
  });
});

describe('dashboard charts', () => {
  it('rounds axis tops and ticks to readable values', () => {
    expect([0.03, 0.07, 0.13, 0.24, 0.3, 0.9, 1].map(niceCeil)).toEqual([0.05, 0.1, 0.2, 0.25, 0.5, 1, 1]);
    expect(probabilityTop(0.9)).toBe(1);
    expect(probabilityTop(0.01)).toBe(0.05);
    expect(ticks(0.25)).toEqual([0, 0.05, 0.1, 0.15, 0.2, 0.25]);
    expect(ticks(1)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  it('draws a named image with a description and no NaN, even from one point', () => {
    const svg = probabilityHistoryChart('h', [{ asOf: '2025-06-30T23:59:59.999Z', churn: 0.12, topPerformer: null }]).text;
    expect(svg).toMatch(/role="img" aria-labelledby="h-title h-desc"/);
    expect(svg).toContain('<title id="h-title">');
    expect(svg).toContain('Latest churn probability 12.0%');
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('places the partner’s marker and the quartile box on the same scale', () => {
    const svg = quartileBar('q', { label: 'Logins', value: 10, p25: 2, p50: 5, p75: 8 }, String).text;
    const box = /class="iqr" x="([\d.]+)" y="9" width="([\d.]+)"/.exec(svg)!;
    const median = Number(/class="median" x1="([\d.]+)"/.exec(svg)![1]);
    const marker = Number(/class="own" d="M ([\d.]+) /.exec(svg)![1]);
    const [x25, x75] = [Number(box[1]), Number(box[1]) + Number(box[2])];
    expect(x25).toBeLessThan(median);
    expect(median).toBeLessThan(x75);
    expect(marker).toBeGreaterThan(x75);
    expect(marker).toBeLessThanOrEqual(300);
    expect(svg).toContain('You: 10; peers&#39; middle half 2 to 8, median 5.');
    expect(quartileBar('n', { label: 'x', value: null, p25: 0, p50: 0, p75: 0 }, String).text).not.toContain('class="own"');
  });

  it('words a standing without judging it, a quartile value as that quartile', () => {
    const q = { p25: 2, p50: 5, p75: 8 };
    expect(standing({ ...q, value: null, percentile: null })).toBe('no value');
    expect(standing({ ...q, value: 1, percentile: 12 })).toBe('bottom quarter');
    expect(standing({ ...q, value: 2, percentile: 25 })).toBe('at the lower quartile');
    expect(standing({ ...q, value: 3, percentile: 33 })).toBe('below the median');
    expect(standing({ ...q, value: 6, percentile: 58 })).toBe('above the median');
    expect(standing({ ...q, value: 9, percentile: 88 })).toBe('top quarter');
    // Ties: 0 is both the lower quartile and the median.
    expect(standing({ p25: 0, p50: 0, p75: 2, value: 0, percentile: 38 })).toBe('at the median');
  });
});
