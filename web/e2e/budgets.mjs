// Times for bench/web_budgets.py: cold loads of the signed-in home page and of the calendar's
// month, each in a fresh Chromium profile (no HTTP cache, no service worker), signed in by the
// refresh cookie alone (as a returning user is). Prints one JSON object; the bench judges it.
//
//   node e2e/budgets.mjs '{"gateway": "...", "email": "...", "password": "...",
//                          "workspace": "...", "chips": 2000, "runs": 3}'
import { launch } from "./support.mjs";

const cfg = JSON.parse(process.argv[2]);

// Runs in the page before any of its scripts: notes the moment `done()` first holds, at the
// start of the frame that paints it (requestAnimationFrame), in performance.now() terms.
function watcher({ kind, chips }) {
  const done = () => {
    if (kind === "home")
      return [...document.querySelectorAll("h1")].some((h) => h.textContent === "Accounts");
    const grid = document.querySelector('ol[aria-label^="Days of"]');
    return grid !== null && grid.querySelectorAll("ul a").length >= chips;
  };
  const observer = new MutationObserver(() => {
    if (window.__budgetSeen !== undefined || !done()) return;
    window.__budgetSeen = null;
    observer.disconnect();
    requestAnimationFrame(() => {
      window.__budgetSeen = performance.now();
    });
  });
  observer.observe(document, { childList: true, subtree: true });
}

async function coldLoad(path, kind) {
  const { context, close } = await launch();
  try {
    // The refresh cookie, as the sign-in form would leave it (HttpOnly, Path=/api/v1/auth).
    const login = await context.request.post(`${cfg.gateway}/api/v1/auth/login`, {
      headers: { "X-SocialSeed-Client": "web" },
      data: { email: cfg.email, password: cfg.password },
    });
    if (!login.ok()) throw new Error(`login: ${login.status()} ${await login.text()}`);
    const page = await context.newPage();
    await page.addInitScript(watcher, { kind, chips: cfg.chips ?? 0 });
    await page.goto(`${cfg.gateway}${path}`, { waitUntil: "load" });
    await page.waitForFunction(() => typeof window.__budgetSeen === "number", null, {
      timeout: 120_000,
      polling: 50,
    });
    return await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      // when the last answer of the posts' pages arrived: the rest is rendering
      const pages = performance
        .getEntriesByType("resource")
        .filter((e) => e.name.includes("/api/v1/posts/calendar?"))
        .map((e) => e.responseEnd);
      // the chain before the posts are asked: the silent refresh, then the workspace (its zone)
      const resources = performance.getEntriesByType("resource");
      const last = (part, key) => Math.max(0, ...resources.filter((e) => e.name.includes(part)).map((e) => e[key]));
      return {
        refresh_in_ms: last("/api/v1/auth/refresh", "responseEnd"),
        workspaces_in_ms: last("/api/v1/workspaces", "responseEnd"),
        posts_asked_ms: last("/api/v1/posts/calendar?", "requestStart"),
        load_ms: nav.loadEventEnd,
        posts_fetched_ms: pages.length ? Math.max(...pages) : null,
        posts_pages: pages.length,
        dom_content_loaded_ms: nav.domContentLoadedEventEnd,
        seen_ms: window.__budgetSeen,
      };
    });
  } finally {
    await close();
  }
}

const result = { home: [], calendar: [] };
await coldLoad("/", "home"); // warm-up: the servers' pools and caches, not the browser's
for (let i = 0; i < cfg.runs; i++) {
  result.home.push(await coldLoad("/", "home"));
  console.error(`home ${i + 1}: ${JSON.stringify(result.home.at(-1))}`);
}
if (cfg.workspace) {
  const path = `/w/${cfg.workspace}/calendar`;
  await coldLoad(path, "calendar");
  for (let i = 0; i < cfg.runs; i++) {
    result.calendar.push(await coldLoad(path, "calendar"));
    console.error(`calendar ${i + 1}: ${JSON.stringify(result.calendar.at(-1))}`);
  }
}
console.log(JSON.stringify(result));
