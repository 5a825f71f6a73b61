import { z } from 'zod';
import type { ModelVersionRecord } from '../../../../data/stores/model-store';
import { currentChampion, promoteVersion } from '../../../../models/registry';
import { MODEL_NAMES, type ModelName } from '../../../../models/types';
import { validParams } from '../../validate';
import { MIRRORS, mayUse } from '../access';
import { aucBars, reliabilityChart, rocChart } from '../charts';
import { dateTime, day, metric, percent } from '../format';
import { href, html, type Html } from '../html';
import { csrfField, layout, respond, sessionOf, type DashContext } from '../layout';
import { modelCurves, type ModelCurves } from '../model-curves';
import type { Session } from '../session';

const TITLES: Record<ModelName, string> = { churn: 'Churn model', 'top-performer': 'Top-performer model' };
const WHAT: Record<ModelName, string> = {
  churn: 'probability that an active partner churns within the horizon (default 90 days)',
  'top-performer': "probability that a partner in its first year reaches the top 20% of first-year sourced revenue",
};

const statusBadge = (status: string): Html => html`<span class="badge status-${status}">${status}</span>`;

function versionsTable(model: ModelName, versions: readonly ModelVersionRecord[], session: Session): Html {
  const canPromote = mayUse(session.principal, MIRRORS.promote);
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label="${TITLES[model]}: versions table">
<table id="versions-${model}"><caption class="visually-hidden">${TITLES[model]}: versions, newest first, with holdout metrics</caption>
<thead><tr><th scope="col">Version</th><th scope="col">Status</th><th scope="col">Trained</th><th scope="col">Data as of</th><th scope="col" class="num">AUC</th><th scope="col" class="num">Baseline AUC</th><th scope="col" class="num">PR-AUC</th><th scope="col" class="num">Brier</th><th scope="col" class="num">ECE</th><th scope="col" class="num">Holdout rows</th>${
    canPromote ? html`<th scope="col">Action</th>` : ''
  }</tr></thead>
<tbody>${versions.map(
    (v) => html`<tr data-version="${v.version}">
<th scope="row"><code>${v.version}</code></th><td>${statusBadge(v.status)}</td><td>${dateTime(v.createdAt)}</td><td>${day(v.asOf)}</td>
<td class="num">${metric(v.metrics.auc)}</td><td class="num">${metric(v.baselineMetrics.auc)}</td><td class="num">${metric(v.metrics.prAuc)}</td><td class="num">${metric(v.metrics.brier)}</td><td class="num">${metric(v.metrics.ece)}</td>
<td class="num">${v.metrics.rows} <span class="muted">(${v.metrics.positives} pos.)</span></td>${
      canPromote
        ? html`<td>${
            v.status === 'champion'
              ? html`<span class="muted small">current champion</span>`
              : html`<form method="post" action="/models/${encodeURIComponent(model)}/versions/${encodeURIComponent(v.version)}/promote">${csrfField(session)}<button class="btn btn-secondary btn-small" type="submit">Make champion<span class="visually-hidden"> (${model} ${v.version})</span></button></form>`
          }</td>`
        : ''
    }</tr>`,
  )}</tbody></table></div>`;
}

function championSection(model: ModelName, champion: ModelVersionRecord, curves: ModelCurves | null): Html {
  const tiers = Object.entries(champion.aucByTier)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, value]) => ({ label, value }));
  const subject = `${model} ${champion.version}`;
  return html`<h3>Champion ${champion.version}</h3>
<p>AUC <strong>${metric(champion.metrics.auc)}</strong> against a logistic-regression baseline of ${metric(champion.baselineMetrics.auc)}, on ${champion.metrics.rows} holdout rows (${champion.metrics.positives} positives) from ${day(
    champion.dataWindow.holdoutFrom,
  )} on, which the model did not train on${champion.comparedWith ? html`; the champion before it scored ${metric(champion.comparedWith.auc)} on the same holdout` : ''}.</p>
<div class="grid grid-3">
<figure class="card" id="roc-${model}">${curves ? rocChart(`roc-chart-${model}`, curves.roc, Number.isFinite(champion.metrics.auc) ? champion.metrics.auc : null, subject) : html`<p class="muted">No ROC curve was stored with this version.</p>`}
<figcaption class="small muted">ROC curve on the holdout; the dashed diagonal is chance.</figcaption></figure>
<figure class="card" id="reliability-${model}">${curves ? reliabilityChart(`rel-chart-${model}`, curves.reliability, subject) : html`<p class="muted">No calibration bins were stored with this version.</p>`}
<figcaption class="small muted">Reliability: observed rate against predicted probability (grey: rows per bin); on the diagonal is well calibrated.</figcaption>
${
  curves
    ? html`<details class="data"><summary>Calibration bins (table)</summary><table><caption class="visually-hidden">Reliability bins</caption><thead><tr><th scope="col">Bin</th><th scope="col" class="num">Rows</th><th scope="col" class="num">Predicted</th><th scope="col" class="num">Observed</th></tr></thead><tbody>${curves.reliability.map(
        (b) => html`<tr><td>${percent(b.lower, 0)}–${percent(b.upper, 0)}</td><td class="num">${b.count}</td><td class="num">${percent(b.meanPredicted)}</td><td class="num">${percent(b.observedRate)}</td></tr>`,
      )}</tbody></table></details>`
    : ''
}</figure>
<figure class="card" id="auc-tier-${model}">${aucBars(`auc-chart-${model}`, tiers, subject)}
<figcaption class="small muted">AUC within each tier's holdout rows (not defined where a tier's rows are all one class).</figcaption></figure>
</div>`;
}

/** GET /models: both models' versions with their holdout metrics, the champions' curves, and promotion. */
export async function modelsPage(c: DashContext): Promise<Response> {
  const session = sessionOf(c);
  const deps = c.get('deps');
  const all = await deps.models.list();
  const sections = await Promise.all(
    MODEL_NAMES.map(async (model) => {
      const versions = all.filter((v) => v.model === model).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      const champion = versions.length ? await currentChampion(deps.models, model) : undefined;
      const curves = champion ? await modelCurves(deps.objects, champion.artifactPrefix) : null;
      return html`<section class="card" aria-labelledby="model-${model}-h" id="model-${model}"><h2 id="model-${model}-h">${TITLES[model]}</h2>
<p class="muted">The ${WHAT[model]}. Metrics are measured on a time-based holdout the model did not train on.</p>
${versions.length === 0 ? html`<p class="notice notice-info">No version trained yet. Train one with <code>POST /v1/models/${model}/train</code>.</p>` : html`${champion ? championSection(model, champion, curves) : html`<p class="notice notice-info">No champion: promote a version.</p>`}<h3>Versions</h3>${versionsTable(model, versions, session)}`}
</section>`;
    }),
  );
  const promoted = /^(churn|top-performer):([A-Za-z0-9-]{1,64})$/.exec(c.req.query('promoted') ?? '');
  const promotedOk = promoted && all.some((v) => v.model === promoted[1] && v.version === promoted[2]);
  const body = html`<h1>Models</h1>
<p class="lede">Every trained version of the two models, with the champion's holdout curves. A new version becomes champion by itself only when it beats the champion on the same holdout; ${
    mayUse(session.principal, MIRRORS.promote) ? 'you can also promote any version by hand (for example to roll back)' : 'admin and ops keys can also promote by hand'
  }. Program-level figures are on the <a href="/program">Program</a> page.</p>
${promotedOk ? html`<div class="notice notice-ok" role="status" id="promoted">Version ${promoted[2]} is now the champion of the ${promoted[1]} model. The next scoring run uses it.</div>` : ''}
${sections}`;
  return respond(c, layout({ title: 'Models', session, active: 'models', body }));
}

const promoteParams = z.object({ model: z.enum(MODEL_NAMES), version: z.string().min(1).max(64) });

/** POST /models/:model/versions/:version/promote: the API's promotion, from a form. */
export async function promote(c: DashContext): Promise<Response> {
  const session = sessionOf(c);
  const deps = c.get('deps');
  const { model, version } = validParams(c, promoteParams);
  await promoteVersion(deps.models, model, version, new Date().toISOString());
  deps.logger.info('model promoted', { requestId: c.get('requestId'), model, version, by: session.principal.keyId, via: 'dashboard' });
  return c.redirect(`${href('/models', { promoted: `${model}:${version}` })}#model-${model}`, 303);
}
