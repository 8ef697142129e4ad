import type { Tally } from "../store/vote-store.js";

/** Everything the page shows; built by the route, rendered here without any I/O. */
export interface PageView {
  title: string;
  options: readonly string[];
  /** Undefined when the vote store is unavailable. */
  tally: Tally | undefined;
  servedBy: string;
  notice?: { kind: "success" | "error"; text: string };
  /** Per-response CSP nonce for the one inline script. */
  nonce: string;
  /** Offer "reset all votes" (ALLOW_RESET). */
  allowReset?: boolean;
}

const escapeMap: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => escapeMap[c] ?? c);
}

/** Share of the total, one decimal; 0 when nobody voted yet. */
export function percentage(count: number, total: number): number {
  return total === 0 ? 0 : Math.round((count / total) * 1000) / 10;
}

// Colour-blind-safe hues with white text at WCAG AA contrast; reused in order for more options.
const PALETTE = ["#2563eb", "#c2410c", "#047857", "#7c3aed", "#be123c", "#0e7490", "#a16207", "#4d7c0f"];

export function renderPage(view: PageView): string {
  const { tally } = view;
  const unavailable = tally === undefined;
  const buttons = view.options
    .map(
      (name, i) =>
        `<button type="submit" name="option" value="${escapeHtml(name)}" class="vote" style="--c:${PALETTE[i % PALETTE.length]}">${escapeHtml(name)}</button>`,
    )
    .join("");
  const rows = view.options
    .map((name, i) => {
      const count = tally?.options[i]?.count;
      const pct = count === undefined ? 0 : percentage(count, tally?.total ?? 0);
      const n = escapeHtml(name);
      return `<li class="row" data-index="${i}">
  <div class="row-head"><span class="name">${n}</span>
    <span class="nums"><span class="count" data-testid="count-${n}">${count ?? "–"}</span> <span class="unit">${count === 1 ? "vote" : "votes"}</span> · <span class="pct" data-testid="percent-${n}">${pct}%</span></span></div>
  <div class="bar" aria-hidden="true"><span style="width:${pct}%;--c:${PALETTE[i % PALETTE.length]}"></span></div>
</li>`;
    })
    .join("\n");
  const notice = view.notice
    ? `<p class="notice ${view.notice.kind}" data-testid="notice">${escapeHtml(view.notice.text)}</p>`
    : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(view.title)}</title>
<link rel="icon" href="${FAVICON}">
<style>${CSS}</style>
</head>
<body>
<main class="card">
  <header>
    <h1>${escapeHtml(view.title)}</h1>
    <p class="lede">Pick one. Results update live for everyone.</p>
  </header>
  <div id="status" role="status" aria-live="polite">${notice}</div>
  <p id="store-down" class="notice error" data-testid="store-unavailable"${unavailable ? "" : " hidden"}>The vote store is unavailable right now, so votes cannot be counted. This page recovers by itself when it is back.</p>
  <form id="vote-form" method="post" action="/vote" class="choices" aria-label="Vote">
    ${buttons}
  </form>
  <section aria-labelledby="results-h">
    <h2 id="results-h">Results <span class="total">(<span data-testid="total">${tally?.total ?? "–"}</span> <span class="unit">${tally?.total === 1 ? "vote" : "votes"}</span>)</span></h2>
    <ol class="results">
${rows}
    </ol>
  </section>
  <footer>
    <span>Served by <strong data-testid="served-by">${escapeHtml(view.servedBy)}</strong></span>
    ${view.allowReset ? RESET_FORM : ""}
  </footer>
</main>
<script nonce="${view.nonce}">${CLIENT_SCRIPT}</script>
</body>
</html>`;
}

const RESET_FORM = `<details>
      <summary>Reset votes</summary>
      <form id="reset-form" method="post" action="/reset">
        <p>This clears every vote for everyone.</p>
        <button type="submit" class="danger">Yes, reset all votes</button>
      </form>
    </details>`;

// Inline icon (a check mark on the first palette colour): no extra request, no 404 for /favicon.ico.
const FAVICON = `data:image/svg+xml,${encodeURIComponent(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#2563eb"/><path d="M9 16.5l4.5 4.5L23 11" fill="none" stroke="#fff" stroke-width="3.5" stroke-linecap="round" stroke-linejoin="round"/></svg>',
)}`;

const CSS = `
:root{color-scheme:light dark;--bg:#f4f5f7;--fg:#111827;--muted:#4b5563;--card:#fff;--line:#e5e7eb;--track:#eef0f3;
  font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
@media (prefers-color-scheme:dark){:root{--bg:#0f1115;--fg:#f3f4f6;--muted:#a1a7b3;--card:#181b21;--line:#2a2f38;--track:#232830}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;background:var(--bg);color:var(--fg);display:grid;place-items:start center;padding:4vh 16px}
.card{width:100%;max-width:560px;background:var(--card);border:1px solid var(--line);border-radius:16px;padding:28px;
  box-shadow:0 1px 2px rgb(0 0 0/.04),0 8px 24px rgb(0 0 0/.06)}
h1{margin:0;font-size:1.75rem;line-height:1.2;letter-spacing:-.01em}
h2{font-size:1rem;margin:28px 0 12px}
.lede{margin:6px 0 20px;color:var(--muted)}
.total{color:var(--muted);font-weight:400}
.choices{display:grid;grid-template-columns:repeat(auto-fit,minmax(120px,1fr));gap:12px}
button{font:inherit;cursor:pointer;border-radius:10px}
.vote{background:var(--c);color:#fff;border:0;padding:14px 16px;font-size:1.1rem;font-weight:600;
  transition:transform .06s ease,filter .15s ease}
.vote:hover{filter:brightness(1.08)}
.vote:active{transform:scale(.97)}
button:focus-visible,summary:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.results{list-style:none;margin:0;padding:0;display:grid;gap:14px}
.row-head{display:flex;justify-content:space-between;gap:12px;margin-bottom:6px}
.name{font-weight:600}
.nums{color:var(--muted);font-variant-numeric:tabular-nums}
.count{color:var(--fg);font-weight:600}
.bar{height:12px;background:var(--track);border-radius:999px;overflow:hidden}
.bar span{display:block;height:100%;background:var(--c);border-radius:999px;transition:width .4s ease}
.notice{margin:0 0 16px;padding:10px 14px;border-radius:10px;font-size:.95rem}
.notice.success{background:#ecfdf5;color:#065f46;border:1px solid #a7f3d0}
.notice.error{background:#fef2f2;color:#991b1b;border:1px solid #fecaca}
footer{margin-top:28px;padding-top:16px;border-top:1px solid var(--line);display:flex;flex-wrap:wrap;
  justify-content:space-between;align-items:flex-start;gap:12px;color:var(--muted);font-size:.9rem}
footer strong{color:var(--fg);font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-weight:600}
summary{cursor:pointer}
details p{margin:8px 0}
.danger{background:transparent;color:#b91c1c;border:1px solid currentColor;padding:6px 12px}
@media (prefers-color-scheme:dark){.danger{color:#f87171}
  .notice.success{background:#052e22;color:#a7f3d0;border-color:#065f46}
  .notice.error{background:#3b0d0d;color:#fecaca;border-color:#7f1d1d}}
@media (prefers-reduced-motion:reduce){*{transition:none!important}}
`;

// Progressive enhancement: the forms work without JavaScript (POST, then 303 back to the page). With
// JavaScript, votes go to the JSON API without a reload and the tally is polled every POLL_MS.
const CLIENT_SCRIPT = `(() => {
  const POLL_MS = 1500;
  const status = document.getElementById("status");
  const down = document.getElementById("store-down");
  const rows = Array.from(document.querySelectorAll(".row"));
  const total = document.querySelector('[data-testid="total"]');
  const say = (kind, text) => {
    const p = document.createElement("p");
    p.className = "notice " + kind;
    p.dataset.testid = "notice";
    p.textContent = text;
    status.replaceChildren(p);
  };
  const render = (t) => {
    down.hidden = true;
    total.textContent = String(t.total);
    total.nextElementSibling.textContent = t.total === 1 ? "vote" : "votes";
    t.options.forEach((o, i) => {
      const row = rows[i];
      if (!row) return;
      const pct = t.total === 0 ? 0 : Math.round((o.count / t.total) * 1000) / 10;
      row.querySelector(".count").textContent = String(o.count);
      row.querySelector(".unit").textContent = o.count === 1 ? "vote" : "votes";
      row.querySelector(".pct").textContent = pct + "%";
      row.querySelector(".bar span").style.width = pct + "%";
    });
  };
  let inflight = false;
  const refresh = async () => {
    if (inflight) return;
    inflight = true;
    try {
      const res = await fetch("/api/results", { cache: "no-store" });
      if (res.ok) render(await res.json());
      else if (res.status === 503) down.hidden = false;
    } catch {
      /* network blip: the next poll retries */
    } finally {
      inflight = false;
    }
  };
  document.getElementById("vote-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const option = e.submitter && e.submitter.value;
    if (!option) return;
    try {
      const res = await fetch("/api/votes", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ option }),
      });
      if (res.ok) say("success", "Thanks! Your vote for " + option + " was counted.");
      else if (res.status === 503) {
        const body = await res.json().catch(() => ({}));
        if (body.error === "backlog_full") say("error", "Your vote could not be counted: too many votes are waiting to be saved. Try again shortly.");
        else { down.hidden = false; say("error", "Your vote could not be counted: the vote store is unavailable."); }
      }
      else say("error", "Your vote was rejected: " + ((await res.json().catch(() => ({}))).message || res.status));
    } catch {
      say("error", "Your vote could not be sent. Check your connection and try again.");
    }
    refresh();
  });
  document.getElementById("reset-form")?.addEventListener("submit", async (e) => {
    e.preventDefault();
    const res = await fetch("/api/votes", { method: "DELETE" }).catch(() => undefined);
    if (res && res.ok) say("success", "All votes were reset.");
    else say("error", "Reset failed: the vote store is unavailable.");
    e.target.closest("details").open = false;
    refresh();
  });
  if (location.search) history.replaceState(null, "", location.pathname);
  setInterval(() => { if (!document.hidden) refresh(); }, POLL_MS);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
})();`;
