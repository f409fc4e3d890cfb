// A newcomer's first visit, in Debian's Chromium driven by playwright-core (no browser
// download): sign up, create a workspace, connect a sandbox X account through the platform's
// consent page, see it active; a reload keeps the session; no token is readable by
// JavaScript; the page's security headers; axe finds nothing critical or serious; a replayed
// spent refresh cookie signs the tab out cleanly; sign out. Screenshots at desktop width and
// at 375px. Usage: node e2e/newcomer.mjs <app url> <screenshot dir>
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { watch } from "./support.mjs";

const [base, shots = "test-results/screenshots"] = process.argv.slice(2);
assert.ok(base, "usage: newcomer.mjs <app url> [screenshot dir]");
mkdirSync(shots, { recursive: true });
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const TIMEOUT = 30_000;
const profile = mkdtempSync(join(tmpdir(), "socialseed-chromium-"));
// A fresh, empty profile each run (playwright passes it as --user-data-dir).
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const report = { steps: [], headers: {}, axe: {}, problems: [] };
const step = (name) => {
  report.steps.push(name);
  console.error(`- ${name}`);
};

async function noTokenReadable(page, refreshValue) {
  const seen = await page.evaluate(() => ({
    cookie: document.cookie,
    local: Object.entries(localStorage),
    session: Object.entries(sessionStorage),
  }));
  assert.equal(seen.cookie, "", `document.cookie is readable: ${seen.cookie}`);
  const stored = JSON.stringify([seen.local, seen.session]);
  assert.ok(!/eyJ[\w-]+\.[\w-]+\.[\w-]+/.test(stored), `a JWT in storage: ${stored}`);
  assert.ok(!stored.includes(refreshValue), "the refresh token is in storage");
  return seen;
}

async function axeCheck(page, name) {
  // Evaluated through the DevTools protocol, not injected as a <script>: the page's CSP stays
  // as served.
  await page.evaluate(axeSource);
  const results = await page.evaluate(() =>
    axe.run(document, { resultTypes: ["violations"] }),
  );
  const bad = results.violations.filter((v) => ["critical", "serious"].includes(v.impact));
  report.axe[name] = results.violations.map((v) => `${v.impact}: ${v.id}`);
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    [],
    `axe on ${name}`,
  );
}

async function refreshCookie(context) {
  const cookies = await context.cookies(base);
  const all = await context.cookies();
  return { atRoot: cookies, cookie: all.find((c) => c.name === "socialseed_refresh") };
}

try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(TIMEOUT);
  watch(page, report);

  step("a signed-out visit lands on sign-in, served with the strict headers");
  const first = await page.goto(`${base}/`);
  const headers = first.headers();
  report.headers = {
    csp: headers["content-security-policy"],
    nosniff: headers["x-content-type-options"],
    referrer: headers["referrer-policy"],
  };
  assert.match(headers["content-security-policy"], /script-src 'self'(;|$)/);
  assert.match(headers["content-security-policy"], /connect-src 'self'/);
  assert.match(headers["content-security-policy"], /frame-ancestors 'none'/);
  assert.equal(headers["x-content-type-options"], "nosniff");
  assert.ok(headers["referrer-policy"]);
  await page.getByRole("heading", { name: "Sign in to SocialSeed" }).waitFor();
  await axeCheck(page, "sign-in");

  step("sign up");
  await page.getByRole("link", { name: "Create an account" }).click();
  const email = `newcomer-${Date.now()}@example.com`;
  await page.getByLabel("Name").fill("Nadia Newcomer");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("a long and private passphrase");
  await axeCheck(page, "sign-up");
  await page.getByRole("button", { name: "Create account" }).click();

  step("create the first workspace in Europe/Paris");
  await page.getByRole("heading", { name: "Create a workspace" }).waitFor();
  await page.getByLabel("Workspace name").fill("Nadia's bakery");
  await page.getByLabel("Time zone").selectOption("Europe/Paris");
  await axeCheck(page, "new-workspace");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.getByRole("heading", { name: "Accounts", exact: true }).waitFor();
  await page.getByText("No accounts yet").waitFor();
  assert.equal(await page.getByLabel("Workspace", { exact: true }).inputValue(), page.url().split("/")[4]);

  step("connect X through the sandbox's consent page");
  await page.getByRole("button", { name: "Connect X" }).click();
  await page.waitForURL((url) => !url.toString().startsWith(base));
  assert.match(await page.title(), /Authorize with X/);
  await page.getByLabel("Username").fill("nadia_bakes");
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL((url) => url.toString().startsWith(base) && url.pathname.endsWith("/accounts"));
  const row = page.getByRole("list", { name: "Accounts" }).getByRole("listitem");
  await row.filter({ hasText: "@nadia_bakes" }).waitFor();
  assert.equal(await row.count(), 1);
  await row.getByText("Active").waitFor();
  await page.getByRole("status").filter({ hasText: "Connected @nadia_bakes" }).waitFor();
  await axeCheck(page, "accounts");

  step("no token is readable by the page; the cookie is HttpOnly, Strict, on the auth path");
  const { atRoot, cookie } = await refreshCookie(context);
  assert.ok(cookie, "the refresh cookie was set");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  assert.equal(cookie.path, "/api/v1/auth");
  assert.deepEqual(atRoot.map((c) => c.name), [], "no cookie is sent to the app's pages");
  await noTokenReadable(page, cookie.value);

  step("screenshots: desktop and 375px, light and dark");
  await page.screenshot({ path: join(shots, "accounts-desktop.png"), fullPage: true });
  await page.getByRole("button", { name: "Switch to dark theme" }).click();
  await page.screenshot({ path: join(shots, "accounts-desktop-dark.png"), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  await page.screenshot({ path: join(shots, "accounts-375.png"), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 375, `the page is ${overflow}px wide at 375px`);
  await page.getByRole("button", { name: "Switch to light theme" }).click();
  await page.screenshot({ path: join(shots, "accounts-375-light.png"), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  step("a reload keeps the session (silent refresh through the cookie)");
  await page.reload();
  await row.filter({ hasText: "@nadia_bakes" }).waitFor();
  const rotated = (await refreshCookie(context)).cookie;
  assert.notEqual(rotated.value, cookie.value, "the refresh rotated the cookie");
  await noTokenReadable(page, rotated.value);

  step("a tab replaying a spent refresh cookie is signed out cleanly");
  await context.addCookies([{ ...rotated, value: cookie.value }]);
  await page.reload();
  await page.getByRole("heading", { name: "Sign in to SocialSeed" }).waitFor();
  assert.equal((await refreshCookie(context)).cookie, undefined, "the cookie was cleared");
  // The whole login was revoked: the newer cookie no longer works either.
  await context.addCookies([rotated]);
  await page.reload();
  await page.getByRole("heading", { name: "Sign in to SocialSeed" }).waitFor();

  step("sign in again, then sign out");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("a long and private passphrase");
  await page.getByRole("button", { name: "Sign in" }).click();
  await row.filter({ hasText: "@nadia_bakes" }).waitFor();
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByRole("heading", { name: "Sign in to SocialSeed" }).waitFor();
  assert.equal((await refreshCookie(context)).cookie, undefined, "sign out cleared the cookie");
  await page.reload();
  await page.getByRole("heading", { name: "Sign in to SocialSeed" }).waitFor();

  // The signed-out refreshes' 401s are expected; so is the platform page's missing favicon.
  const unexpected = report.problems;
  assert.deepEqual(unexpected, [], "console errors or CSP violations");
  console.log(JSON.stringify({ ok: true, ...report }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), ...report }));
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
