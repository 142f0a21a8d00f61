/** The console's own stylesheet and script, served by the broker (no CDN, works offline). */

export const CONSOLE_CSS = `
:root { --fg: #1d2330; --muted: #5d6675; --line: #dde1e8; --accent: #2457c5; --bg: #f6f7f9; --bad: #b3261e; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #1d2330; color: #fff; }
header .brand { font-weight: 700; letter-spacing: .02em; }
header nav a { color: #c9d3e6; text-decoration: none; margin-right: 16px; }
header nav a.here, header nav a:hover { color: #fff; }
header .mode { margin-left: auto; font-size: 12px; color: #c9d3e6; border: 1px solid #56607a; border-radius: 10px; padding: 1px 8px; }
main { padding: 8px 24px 40px; max-width: 1200px; }
h1 { font-size: 20px; margin: 16px 0 12px; } h2 { font-size: 16px; margin: 24px 0 8px; }
a { color: var(--accent); }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); margin-bottom: 12px; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #eef1f5; font-weight: 600; font-size: 13px; }
td.num, th.num { text-align: right; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: break-word; font: 12px/1.4 ui-monospace, Menlo, Consolas, monospace; max-width: 600px; }
form.inline { display: inline; }
form.box { background: #fff; border: 1px solid var(--line); padding: 10px 12px; display: flex; flex-wrap: wrap; gap: 10px; align-items: end; margin-bottom: 12px; }
label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
input, select, button { font: inherit; padding: 3px 6px; }
button { background: var(--accent); color: #fff; border: 0; border-radius: 4px; padding: 5px 12px; cursor: pointer; }
button.danger { background: var(--bad); }
.flash { background: #e8f0fe; border: 1px solid #b6c8f3; padding: 6px 10px; }
.error { background: #fdecea; border: 1px solid #f1b5ae; padding: 6px 10px; }
.nowrap { white-space: nowrap; }
.empty, .muted { color: var(--muted); }
svg.spark { display: block; background: #fafbfc; border: 1px solid var(--line); }
svg.spark polyline { fill: none; stroke-width: 1.5; stroke-linejoin: round; }
svg.spark .spark-in, .key-in { stroke: var(--accent); color: var(--accent); }
svg.spark .spark-out, .key-out { stroke: #1e7b34; color: #1e7b34; }
.key-in, .key-out { font-weight: 600; }
.lag-zero { color: #1e7b34; font-weight: 600; } .lag-some { color: var(--bad); font-weight: 600; }
`;

/** Confirms destructive forms (data-confirm) before they are sent. */
export const CONSOLE_JS = `
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) e.preventDefault();
});
`;
