// What the browser journeys share: Debian's Chromium through playwright-core (a fresh empty
// profile, no browser download), axe-core evaluated through DevTools (the page's CSP stays as
// served), and a record of console errors and failed requests.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

export async function launch() {
  const profile = mkdtempSync(join(tmpdir(), "socialseed-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 800 },
    reducedMotion: "reduce", // no transitions to race (the app honours the preference)
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
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

export function newReport() {
  const report = { steps: [], axe: {}, problems: [] };
  report.step = (name) => {
    report.steps.push(name);
    console.error(`- ${name}`);
  };
  return report;
}

function sameOrigin(page, url) {
  try {
    return new URL(url).origin === new URL(page.url()).origin;
  } catch {
    return false;
  }
}

export function watch(page, report) {
  page.on("console", (msg) => {
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource"))
      report.problems.push(`console: ${msg.text()}`);
  });
  page.on("response", (response) => {
    // A published post's page asks for its numbers; until their first fetch the answer is
    // 404 PostNotFound, and the page asks again: expected, not a failure.
    if (response.status() === 404 && /\/api\/v1\/analytics\/posts\/[0-9a-f-]{36}$/.test(response.url())) return;
    // A signed-out first load asks for a silent refresh without a cookie: 401, then sign in.
    if (response.status() === 401 && response.url().endsWith("/api/v1/auth/refresh")) return;
    // The browser's own favicon request to another origin (the sandbox's consent page).
    if (response.status() === 404 && response.url().endsWith("/favicon.ico") && !sameOrigin(page, response.url())) return;
    if (response.status() >= 400)
      report.problems.push(`${response.status()} ${response.request().method()} ${response.url()}`);
  });
  page.on("pageerror", (err) => report.problems.push(`pageerror: ${err.message}`));
}

export async function axeCheck(page, report, name) {
  // Colours mid-transition (a button just pressed turning primary) are not the page's colours.
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished)));
  await page.evaluate(axeSource);
  const results = await page.evaluate(() => axe.run(document, { resultTypes: ["violations"] }));
  const bad = results.violations.filter((v) => ["critical", "serious"].includes(v.impact));
  report.axe[name] = results.violations.map((v) => `${v.impact}: ${v.id}`);
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    [],
    `axe on ${name}`,
  );
}

export async function noHorizontalScroll(page, width) {
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= width, `the page is ${wide}px wide at ${width}px`);
}

/** The wall time ("yyyy-MM-ddTHH:mm") in the zone, `minutes` from now. */
export function wallTime(zone, minutes) {
  const at = new Date(Date.now() + minutes * 60_000);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}`;
}

/** Sign up as a newcomer and create a first workspace (in `zone`, else the browser's): the
 * Accounts page is shown. */
export async function signUpWithWorkspace(page, base, { name, email, workspace, zone }) {
  await page.goto(`${base}/sign-up`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("a long and private passphrase");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Create a workspace" }).waitFor();
  await page.getByLabel("Workspace name").fill(workspace);
  if (zone) await page.getByLabel("Time zone").selectOption(zone);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.getByRole("heading", { name: "Accounts", exact: true }).waitFor();
}

/** From the Accounts page: Connect `platform`, consent at the sandbox as `username`, back on
 * Accounts with the account listed (as `shownAs`: LinkedIn shows a name, not the handle). */
export async function connectAccount(page, base, platform, username, shownAs = username) {
  await page.getByRole("button", { name: `Connect ${platform}`, exact: true }).click();
  await page.waitForURL((url) => !url.toString().startsWith(base));
  await page.getByLabel("Username").fill(username);
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL((url) => url.toString().startsWith(base) && url.pathname.endsWith("/accounts"));
  if (shownAs !== null) {
    await page.getByRole("list", { name: "Accounts" }).getByText(`@${shownAs}`, { exact: true }).waitFor();
  }
}
