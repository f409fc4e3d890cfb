// Every page of the app, screenshotted at desktop width (1280px) and at 375px in the light
// theme (and the desktop in dark), against the real stack: sign in and sign up, a new
// workspace, Accounts with a connected sandbox X account, Compose, Posts, the post itself,
// Calendar (month, week, list), Approvals, Members, Analytics, Integrations, a page that does
// not exist.
// axe-core runs on each (nothing critical or serious), no page scrolls sideways at 375px, and
// no console error or failed request is allowed.
// Usage: node e2e/pages.mjs <app url> <screenshot dir>
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { axeCheck, launch, newReport, noHorizontalScroll, wallTime, watch } from "./support.mjs";

const [base, shots = "test-results/screenshots"] = process.argv.slice(2);
assert.ok(base, "usage: pages.mjs <app url> [screenshot dir]");
mkdirSync(shots, { recursive: true });
const ZONE = "Europe/Lisbon";

const report = newReport();
report.shots = [];
const { context, close } = await launch();
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  watch(page, report);

  /** The page as it is now: desktop light, desktop dark, 375px light (axe on each). */
  async function shoot(name, heading) {
    report.step(`${name}: desktop, dark, 375px`);
    if (heading) await page.getByRole("heading", { name: heading, level: 1 }).waitFor();
    await page.getByText(/^Loading/).first().waitFor({ state: "detached" }).catch(() => {});
    await axeCheck(page, report, name);
    await page.screenshot({ path: join(shots, `page-${name}-desktop.png`), fullPage: true });
    const dark = page.getByRole("button", { name: "Switch to dark theme" });
    if (await dark.count()) {
      await dark.click();
      await axeCheck(page, report, `${name}-dark`);
      await page.screenshot({ path: join(shots, `page-${name}-desktop-dark.png`), fullPage: true });
      await page.getByRole("button", { name: "Switch to light theme" }).click();
      report.shots.push(`page-${name}-desktop-dark.png`);
    }
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForFunction(() => document.documentElement.scrollWidth <= 375, null, { timeout: 5_000 }).catch(() => {});
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > 376 && !e.closest(".overflow-x-auto"))
        .slice(-3)
        .map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`),
    );
    assert.deepEqual(wide, [], `${name}: elements wider than 375px`);
    // The pages' links stay one row (it scrolls sideways) rather than pushing the page down.
    const navRows = await page.evaluate(
      () =>
        new Set(
          [...document.querySelectorAll('nav[aria-label="Workspace pages"] a')].map((a) =>
            Math.round(a.getBoundingClientRect().top),
          ),
        ).size,
    );
    assert.ok(navRows <= 1, `${name}: the pages' nav wraps into ${navRows} rows at 375px`);
    await noHorizontalScroll(page, 375);
    await axeCheck(page, report, `${name}-375`);
    await page.screenshot({ path: join(shots, `page-${name}-375.png`), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    report.shots.push(`page-${name}-desktop.png`, `page-${name}-375.png`);
  }

  await page.goto(`${base}/sign-in`);
  await page.getByRole("button", { name: "Sign in" }).waitFor();
  await shoot("sign-in");
  await page.goto(`${base}/sign-up`);
  await page.getByRole("button", { name: "Create account" }).waitFor();
  await shoot("sign-up");

  report.step("sign up, a workspace, an X account");
  await page.getByLabel("Name").fill("Paige Tour");
  await page.getByLabel("Email").fill(`pages-${Date.now()}@example.com`);
  await page.getByLabel("Password").fill("a long and private passphrase");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Create a workspace" }).waitFor();
  await shoot("home-new");
  await page.getByLabel("Workspace name").fill("Bakery");
  await page.getByLabel("Time zone").selectOption(ZONE);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.getByRole("heading", { name: "Accounts", exact: true }).waitFor();
  await page.getByRole("button", { name: "Connect X", exact: true }).click();
  await page.waitForURL((url) => !url.toString().startsWith(base));
  const username = `tour_${Date.now() % 1_000_000}`;
  await page.getByLabel("Username").fill(username);
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL((url) => url.toString().startsWith(base) && url.pathname.endsWith("/accounts"));
  await page.getByText(`@${username}`).first().waitFor();
  const workspace = new URL(page.url()).pathname.split("/")[2];
  await shoot("accounts", "Accounts");

  const nav = (name) => page.getByRole("navigation", { name: "Workspace pages" }).getByRole("link", { name, exact: true });
  await page.goto(`${base}/workspaces/new`);
  await shoot("new-workspace");

  report.step("compose and schedule a post for tomorrow");
  await page.goto(`${base}/w/${workspace}/compose`);
  await page.getByLabel("Text", { exact: true }).fill("Fresh loaves at eight, every morning this week.");
  await page.getByRole("checkbox", { name: `X @${username}` }).check();
  await page.getByText("Ready for X.").first().waitFor();
  await page.getByRole("radio", { name: "Schedule for later" }).check();
  await page.getByLabel(`Date and time in ${ZONE}`).fill(wallTime(ZONE, 24 * 60));
  await shoot("compose", "Compose");
  await page.getByRole("button", { name: "Schedule", exact: true }).click();
  await page.waitForURL(/\/posts\/[0-9a-f-]{36}$/);
  await page.getByText(/^Scheduled for /).first().waitFor();
  await shoot("post", "Post");

  await nav("Posts").click();
  await shoot("posts", "Posts");
  await nav("Calendar").click();
  await page.getByRole("link", { name: /Fresh loaves/ }).first().waitFor();
  await shoot("calendar-month", "Calendar");
  await page.getByRole("button", { name: "Week", exact: true }).click();
  await shoot("calendar-week", "Calendar");
  await page.getByRole("button", { name: "List", exact: true }).click();
  await shoot("calendar-list", "Calendar");
  await nav("Approvals").click();
  await shoot("approvals", "Approvals");
  await nav("Members").click();
  await shoot("members", "Members");
  await nav("Analytics").click();
  await shoot("analytics", "Analytics");
  await nav("Integrations").click();
  await page.getByText("No webhook endpoints yet").waitFor();
  await shoot("integrations", "Integrations");
  await page.goto(`${base}/w/${workspace}/nothing-here`);
  await shoot("not-found", "Page not found");

  // The signed-out visits' silent refresh answers 401; nothing else may fail.
  const unexpected = report.problems;
  assert.deepEqual(unexpected, [], "console errors (CSP violations among them) or failed requests");
  console.log(JSON.stringify({ ok: true, ...report }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), ...report }));
  process.exitCode = 1;
} finally {
  await close();
}
