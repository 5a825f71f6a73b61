/** The dashboard's one stylesheet, served by the app itself (/assets/dashboard.css): no CDN, no web fonts. */
export const DASHBOARD_CSS = `
:root { color-scheme: light; --fg: #1d2433; --muted: #4f5866; --line: #d9dee5; --bg: #f5f6f8; --card: #fff;
  --accent: #1d4ed8; --accent-dark: #163ea8; --churn: #b42318; --top: #175cd3; --focus: #1d4ed8; }
* { box-sizing: border-box; }
html { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
body { margin: 0; }
a { color: #1a47b8; }
a:hover { color: #0f2f80; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 2px; }
.skip { position: absolute; left: -9999px; top: 0; background: #fff; padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: 1rem; top: .5rem; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }

.topbar { background: #fff; border-bottom: 1px solid var(--line); }
.topbar-inner { max-width: 1200px; margin: 0 auto; padding: .6rem 1.5rem; display: flex; align-items: center; gap: 1.5rem; flex-wrap: wrap; }
.brand { font-weight: 650; font-size: 1.05rem; color: var(--fg); text-decoration: none; display: flex; align-items: center; gap: .5rem; }
.brand-mark { width: 22px; height: 22px; }
.nav { display: flex; gap: .25rem; flex-wrap: wrap; margin: 0; padding: 0; list-style: none; }
.nav a { display: block; padding: .35rem .7rem; border-radius: 6px; color: var(--fg); text-decoration: none; }
.nav a:hover { background: #eef1f5; }
.nav a[aria-current="page"] { background: #e6ecfb; color: #163ea8; font-weight: 600; }
.who { margin-left: auto; display: flex; align-items: center; gap: .75rem; color: var(--muted); font-size: .9rem; }
.who form { margin: 0; }

main { max-width: 1200px; margin: 0 auto; padding: 1.25rem 1.5rem 3rem; }
h1 { font-size: 1.5rem; margin: .25rem 0 .25rem; font-weight: 650; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; font-weight: 650; }
h3 { font-size: 1rem; margin: 1rem 0 .5rem; font-weight: 650; }
.lede { color: var(--muted); margin: 0 0 1.25rem; max-width: 60rem; }
.muted { color: var(--muted); }
.small { font-size: .875rem; }
footer { max-width: 1200px; margin: 0 auto; padding: 0 1.5rem 2rem; color: var(--muted); font-size: .875rem; }

.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1.1rem 1.25rem; margin-bottom: 1.25rem; }
.grid { display: grid; gap: 1.25rem; }
.grid-2 { grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); }
.grid-3 { grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); }
.grid > .card { margin-bottom: 0; }
.grid { margin-bottom: 1.25rem; }
figure { margin: 0; }
.card .grid { margin-bottom: 0; }
.col-partner { min-width: 15rem; }
.col-drivers { min-width: 20rem; }
.stats { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: .75rem; margin: 0; }
.stat { background: #fafbfc; border: 1px solid var(--line); border-radius: 8px; padding: .7rem .85rem; margin: 0; }
.stat dt { color: var(--muted); font-size: .85rem; }
.stat dd { margin: .15rem 0 0; font-size: 1.35rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.stat dd .sub { display: block; font-size: .8rem; font-weight: 400; color: var(--muted); }

.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
caption { text-align: left; color: var(--muted); padding: 0 0 .5rem; font-size: .875rem; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #e7eaef; vertical-align: top; }
thead th { font-weight: 600; color: #394252; background: #f7f8fa; border-bottom: 1px solid var(--line); white-space: nowrap; }
tbody tr:hover { background: #fafbfd; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.drivers { margin: 0; padding: 0; list-style: none; font-size: .86rem; }
.drivers li { margin: 0 0 .15rem; }
.dir-up { color: #a11b12; font-weight: 600; }
.dir-down { color: #17663a; font-weight: 600; }

.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; white-space: nowrap; border: 1px solid transparent; }
.band-high { background: #fde8e7; color: #8f1a12; border-color: #f5c2bd; }
.band-medium { background: #fdf1d6; color: #6d4200; border-color: #f3d79a; }
.band-low { background: #e4f3ea; color: #1a5c34; border-color: #b9dfc7; }
.status-champion { background: #e6ecfb; color: #163ea8; border-color: #bccbf3; }
.status-challenger { background: #f1f2f5; color: #3d4451; border-color: #d3d7de; }
.status-retired { background: #f6f6f6; color: #4f5866; border-color: #dcdcdc; }
.change-up { color: #a11b12; white-space: nowrap; }
.change-down { color: #17663a; white-space: nowrap; }
.change-none { color: var(--muted); white-space: nowrap; }
.probbar { display: inline-block; vertical-align: middle; margin-left: .4rem; }

form.filters { display: flex; flex-wrap: wrap; gap: .75rem 1rem; align-items: flex-end; }
.field { display: flex; flex-direction: column; gap: .2rem; }
.field label, .field .label { font-size: .85rem; color: #394252; font-weight: 600; }
.hint { font-size: .8rem; color: var(--muted); }
input, select, button { font: inherit; }
input[type="text"], input[type="password"], input[type="number"], input[type="date"], select {
  border: 1px solid #b8c0cc; border-radius: 6px; padding: .4rem .55rem; background: #fff; color: var(--fg); min-width: 9rem; }
input[aria-invalid="true"] { border-color: #b42318; }
.btn { display: inline-block; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 6px; padding: .42rem .9rem; font-weight: 600; cursor: pointer; text-decoration: none; line-height: 1.4; }
.btn:hover { background: var(--accent-dark); color: #fff; }
.btn-secondary { background: #fff; color: #163ea8; border-color: #b8c4e6; }
.btn-secondary:hover { background: #eef2fc; color: #0f2f80; }
.btn-small { padding: .2rem .6rem; font-size: .85rem; }
.actions { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
.pager { display: flex; gap: .75rem; align-items: center; justify-content: space-between; margin-top: .75rem; flex-wrap: wrap; }

.notice { border-radius: 8px; padding: .7rem .9rem; margin: 0 0 1rem; border: 1px solid; }
.notice-error { background: #fdf0ef; border-color: #f2c4bf; color: #7d1a12; }
.notice-ok { background: #ecf7f0; border-color: #bfe1cb; color: #1a5232; }
.notice-info { background: #eef3fd; border-color: #c5d4f4; color: #1c3b86; }
.notice ul { margin: .25rem 0 0; padding-left: 1.2rem; }

.signin { max-width: 27rem; margin: 3rem auto; }
.signin .card { padding: 1.5rem 1.75rem; }
.signin input[type="password"] { width: 100%; }
.signin .field { margin: 1rem 0; }

.chart { display: block; max-width: 100%; height: auto; }
.chart-wide { width: 100%; }
.chart-title { font-size: .9rem; font-weight: 600; margin: 0 0 .25rem; }
.chart text { fill: #3a4250; font-size: 12px; font-family: inherit; }
.chart .axis { stroke: #8a94a3; stroke-width: 1; }
.chart .grid-line { stroke: #e6e9ee; stroke-width: 1; }
.chart .ref { stroke: #8a94a3; stroke-width: 1; stroke-dasharray: 4 4; fill: none; }
.chart .series-churn { stroke: var(--churn); fill: none; stroke-width: 2.25; }
.chart .series-top { stroke: var(--top); fill: none; stroke-width: 2.25; }
.chart .dot-churn { fill: var(--churn); }
.chart .dot-top { fill: var(--top); }
.chart .roc { stroke: var(--accent); fill: none; stroke-width: 2.25; }
.chart .roc-area { fill: #e6ecfb; stroke: none; }
.chart .rel { stroke: #7a3fb0; fill: none; stroke-width: 2; }
.chart .rel-dot { fill: #7a3fb0; }
.chart .count-bar { fill: #d6dbe3; }
.chart .track { fill: #eef0f3; }
.chart .iqr { fill: #c9d6f5; stroke: #7f9ad9; }
.chart .median { stroke: #163ea8; stroke-width: 2.5; }
.chart .own { fill: #b54708; stroke: #fff; stroke-width: 1.5; }
.chart .bar-partner { fill: #1d4ed8; }
.chart .bar-direct { fill: #8a94a3; }
.chart .bar-auc { fill: #5b7fd6; }
.legend { display: flex; gap: 1rem; flex-wrap: wrap; margin: .4rem 0 0; padding: 0; list-style: none; font-size: .85rem; color: var(--muted); }
.legend li { display: flex; align-items: center; gap: .35rem; }
.swatch { width: 14px; height: 4px; border-radius: 2px; display: inline-block; }
.swatch-churn { background: var(--churn); }
.swatch-top { background: var(--top); }
.swatch-iqr { background: #c9d6f5; height: 10px; border: 1px solid #7f9ad9; }
.swatch-median { background: #163ea8; width: 3px; height: 12px; }
.swatch-own { background: #b54708; width: 10px; height: 10px; transform: rotate(45deg); border-radius: 1px; }
.swatch-partner { background: #1d4ed8; height: 10px; }
.swatch-direct { background: #8a94a3; height: 10px; }
details.data { margin-top: .5rem; font-size: .875rem; }
details.data summary { cursor: pointer; color: #1a47b8; }
.bench-row td { vertical-align: middle; }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
.kv dt { color: var(--muted); }
.kv dd { margin: 0; }
.score-big { font-size: 2rem; font-weight: 650; font-variant-numeric: tabular-nums; line-height: 1.2; }
@media (max-width: 700px) { .who { margin-left: 0; } main { padding: 1rem; } }
`;

/** The tab icon: the brand mark (three bars). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect x="2" y="12" width="4" height="10" rx="1" fill="#9db4ee"/><rect x="10" y="7" width="4" height="15" rx="1" fill="#5b7fd6"/><rect x="18" y="2" width="4" height="20" rx="1" fill="#1d4ed8"/></svg>`;
