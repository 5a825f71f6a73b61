/** A self-contained page that renders /openapi.json: no CDN, no external fonts, works offline. */
export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Partner scoring API</title>
<style>
  :root { color-scheme: light; --fg:#1b1f24; --muted:#57606a; --line:#d0d7de; --bg:#fff; --code:#f6f8fa; }
  body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
  header, main { max-width: 960px; margin: 0 auto; padding: 1rem 1.5rem; }
  h1 { margin: .5rem 0 0; font-size: 1.6rem; } h2 { margin-top: 2rem; border-bottom: 1px solid var(--line); }
  details { border: 1px solid var(--line); border-radius: 6px; margin: .5rem 0; background: var(--bg); }
  summary { cursor: pointer; padding: .5rem .75rem; display: flex; gap: .75rem; align-items: baseline; }
  summary:focus-visible { outline: 3px solid #0969da; }
  .m { font: 600 12px ui-monospace, monospace; padding: 2px 6px; border-radius: 4px; color: #fff; min-width: 3.5rem; text-align: center; }
  .get { background: #0b6e4f; } .post { background: #0550ae; } .delete { background: #a40e26; } .put { background: #7d4e00; }
  .p { font-family: ui-monospace, monospace; } .s { color: var(--muted); }
  .body { padding: 0 .75rem .75rem; } pre { background: var(--code); padding: .75rem; overflow: auto; border-radius: 6px; font-size: 13px; }
  table { border-collapse: collapse; width: 100%; } td, th { border-bottom: 1px solid var(--line); text-align: left; padding: .25rem .5rem; vertical-align: top; }
  .roles { font-size: 13px; color: var(--muted); }
</style>
</head>
<body>
<header><h1>Partner scoring API</h1><p class="s" id="about">Loading /openapi.json…</p></header>
<main id="ops" aria-live="polite"></main>
<script>
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
fetch('/openapi.json').then((r) => r.json()).then((doc) => {
  document.getElementById('about').textContent = doc.info.description + ' Version ' + doc.info.version + '. Send "Authorization: Bearer <key>" on every /v1 route.';
  const byTag = {};
  for (const [path, item] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(item)) {
    (byTag[(op.tags || ['Discovery'])[0]] ||= []).push({ path, method, op });
  }
  const out = [];
  for (const [tag, ops] of Object.entries(byTag)) {
    out.push('<h2>' + esc(tag) + '</h2>');
    for (const { path, method, op } of ops) {
      const params = (op.parameters || []).map((p) => '<tr><td class="p">' + esc(p.name) + '</td><td>' + esc(p.in) + (p.required ? ', required' : '') + '</td><td><code>' + esc(JSON.stringify(p.schema)) + '</code></td></tr>').join('');
      const body = op.requestBody ? Object.entries(op.requestBody.content).map(([ct, c]) => '<h4>Body: ' + esc(ct) + '</h4><pre>' + esc(JSON.stringify(c.schema, null, 2)) + '</pre>').join('') : '';
      const responses = Object.entries(op.responses || {}).map(([st, r]) => '<tr><td>' + esc(st) + '</td><td>' + esc(r.description) + '</td></tr>').join('');
      out.push('<details><summary><span class="m ' + esc(method) + '">' + esc(method.toUpperCase()) + '</span><span class="p">' + esc(path) + '</span><span class="s">' + esc(op.summary) + '</span></summary><div class="body">' +
        '<p>' + esc(op.description).replace(/\\n/g, '<br>') + '</p>' +
        (params ? '<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>schema</th></tr>' + params + '</table>' : '') + body +
        '<h4>Responses</h4><table><tr><th>status</th><th>meaning</th></tr>' + responses + '</table></div></details>');
    }
  }
  out.push('<h2>Schemas</h2>');
  for (const [name, schema] of Object.entries(doc.components.schemas || {})) out.push('<details><summary><span class="p">' + esc(name) + '</span></summary><div class="body"><pre>' + esc(JSON.stringify(schema, null, 2)) + '</pre></div></details>');
  document.getElementById('ops').innerHTML = out.join('');
}).catch((e) => { document.getElementById('about').textContent = 'Could not load /openapi.json: ' + e; });
</script>
</body>
</html>`;
