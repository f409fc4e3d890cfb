// Analytics in the browser against the real stack: a user connects two sandbox X accounts (the
// sandbox seeds their history), waits on the Analytics page until the backfill shows its posts,
// sees the platform cards with numbers, the followers chart drawn (an SVG with its points),
// another metric of the account over time, chosen days (and a range refused in words), the two
// accounts compared (a table and bars), the best-times heat map, presses Refresh for every
// account and for one (progress, or RefreshTooSoon's words and the time to retry), exports CSV
// through a Blob URL; publishes a post and reads its own numbers on its page; no <style>
// element and no CSP violation; axe finds nothing critical or serious; screenshots at desktop
// width and 375px, light and dark.
// Usage: node e2e/analytics.mjs <app url> <screenshot dir>
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { axeCheck, launch, newReport, noHorizontalScroll, watch } from "./support.mjs";

const [base, shots = "test-results/screenshots"] = process.argv.slice(2);
assert.ok(base, "usage: analytics.mjs <app url> [screenshot dir]");
mkdirSync(shots, { recursive: true });

const report = newReport();
const { context, close } = await launch();
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  watch(page, report);

  report.step("sign up, create a workspace in Asia/Tokyo, connect X");
  await page.goto(`${base}/sign-up`);
  await page.getByLabel("Name").fill("Ana Lytics");
  await page.getByLabel("Email").fill(`analytics-${Date.now()}@example.com`);
  await page.getByLabel("Password").fill("a long and private passphrase");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("heading", { name: "Create a workspace" }).waitFor();
  await page.getByLabel("Workspace name").fill("Numbers");
  await page.getByLabel("Time zone").selectOption("Asia/Tokyo");
  await page.getByRole("button", { name: "Create workspace" }).click();
  await page.getByRole("heading", { name: "Accounts", exact: true }).waitFor();
  await page.getByRole("button", { name: "Connect X", exact: true }).click();
  await page.waitForURL((url) => !url.toString().startsWith(base));
  const username = `ana_${Date.now() % 1_000_000}`;
  await page.getByLabel("Username").fill(username);
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL((url) => url.toString().startsWith(base) && url.pathname.endsWith("/accounts"));
  await page.getByText(`@${username}`).first().waitFor();
  const other = `bea_${Date.now() % 1_000_000}`;
  await page.getByRole("button", { name: "Connect X", exact: true }).click();
  await page.waitForURL((url) => !url.toString().startsWith(base));
  await page.getByLabel("Username").fill(other);
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL((url) => url.toString().startsWith(base) && url.pathname.endsWith("/accounts"));
  await page.getByText(`@${other}`).first().waitFor();

  report.step("Analytics is in the nav; the page follows the backfill until the posts show");
  await page.getByRole("navigation", { name: "Workspace pages" }).getByRole("link", { name: "Analytics" }).click();
  await page.getByRole("heading", { name: "Analytics", level: 1 }).waitFor();
  // The page asks again every few seconds while nothing is tracked.
  await page.getByRole("heading", { name: "Top posts" }).waitFor({ timeout: 120_000 });
  await page.getByRole("listitem").filter({ hasText: "engagements" }).first().waitFor({ timeout: 120_000 });

  report.step("the X card has numbers");
  const card = page.getByRole("region", { name: "X totals" });
  await card.waitFor();
  const published = await card.getByText("Posts published").locator("xpath=following-sibling::dd").innerText();
  assert.ok(Number(published.replace(/,/g, "")) > 0, `posts published: ${published}`);
  const followers = await page.getByTestId("followers").first().innerText();
  assert.match(followers, /^[\d,]+$/, `followers: ${followers}`);
  const link = page.getByRole("link", { name: "Open on X" }).first();
  assert.match(await link.getAttribute("href"), /^https?:\/\//);

  report.step("the followers chart is drawn: an SVG with its points, named for assistive tech");
  await page.getByLabel("Account", { exact: true }).selectOption({ label: `@${username} (X)` });
  const chart = page.getByTestId("account-chart");
  await chart.locator("svg circle").first().waitFor({ timeout: 60_000 });
  const dots = await chart.locator("svg circle").count();
  assert.ok(dots >= 1, `${dots} points`);
  await page.getByRole("img", { name: new RegExp(`^Followers of @${username} per day: [\\d,]+ on `) }).waitFor();

  report.step("another of the account's metrics over time: following");
  await page.getByLabel("Metric", { exact: true }).selectOption("following");
  await page.getByRole("img", { name: new RegExp(`^Following of @${username} per day: [\\d,]+ on `) }).waitFor({ timeout: 60_000 });
  assert.match(await chart.locator("figcaption").innerText(), /^Following, day buckets in Asia\/Tokyo$/);

  report.step("chosen days: the page reads them in the zone; a range backwards is refused in words");
  const period = page.getByTestId("period");
  const before = await period.innerText();
  await page.getByLabel("Period").selectOption("custom");
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Tokyo" }).format(new Date());
  const tenDaysAgo = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Tokyo" }).format(new Date(Date.now() - 9 * 86_400_000));
  await page.getByLabel("First day").fill(tenDaysAgo);
  await page.getByLabel("Last day").fill(today);
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const day = (iso) => `${Number(iso.slice(8))} ${MONTHS[Number(iso.slice(5, 7)) - 1]} ${iso.slice(0, 4)}`;
  await page.getByText(`${day(tenDaysAgo)} to ${day(today)}, days in Asia/Tokyo`).waitFor();
  assert.notEqual(await period.innerText(), before);
  await page.getByRole("region", { name: "X totals" }).waitFor();
  await page.getByLabel("First day").fill(today);
  await page.getByLabel("Last day").fill(tenDaysAgo);
  await page.getByRole("alert").filter({ hasText: "The first day is after the last. Showing the last good period." }).waitFor();
  assert.equal(await page.getByLabel("First day").getAttribute("aria-invalid"), "true");
  // the last good period stays: today alone
  await page.getByText(`${day(today)} to ${day(today)}, days in Asia/Tokyo`).waitFor();
  await page.getByLabel("Last day").fill(today);
  await page.getByRole("alert").filter({ hasText: "The first day is after the last." }).waitFor({ state: "detached" });
  await page.getByLabel("Period").selectOption("30");

  report.step("the two accounts compared: a row each and a bar each");
  const table = page.getByTestId("compare-table");
  await table.locator("tbody tr").nth(1).waitFor({ timeout: 60_000 });
  assert.equal(await table.locator("tbody tr").count(), 2);
  // An account's first counters may still be on their way: the section asks again until they are in.
  for (const name of [username, other]) {
    const followersCell = table.locator("tbody tr").filter({ hasText: `@${name} (X)` }).locator("td").first();
    await followersCell.filter({ hasText: /^[\d,]+/ }).waitFor({ timeout: 90_000 });
  }
  const bars = page.getByTestId("compare-chart");
  await bars.locator("svg rect").nth(1).waitFor();
  assert.equal(await bars.locator("svg rect").count(), 2);
  await page.getByRole("img", { name: new RegExp(`^Followers: @(${username}|${other}) [\\d,]+, @(${username}|${other}) [\\d,]+$`) }).waitFor();
  await page.getByRole("checkbox", { name: `@${other} (X)` }).uncheck();
  await table.locator("tbody tr").nth(1).waitFor({ state: "detached" });
  await table.locator("tbody tr").first().waitFor();
  assert.equal(await table.locator("tbody tr").count(), 1);
  // The chart follows the table's answer: wait for it to draw the one bar, not for a moment.
  await bars.locator("svg rect").nth(1).waitFor({ state: "detached" });
  await bars.locator("svg rect").first().waitFor();
  assert.equal(await bars.locator("svg rect").count(), 1);
  await page.getByRole("checkbox", { name: `@${other} (X)` }).check();
  await table.locator("tbody tr").nth(1).waitFor();

  report.step("the best-times heat map: 7 weekdays × 24 hours");
  const heat = page.getByTestId("heatmap");
  assert.equal(await heat.locator("tbody tr").count(), 7);
  assert.equal(await heat.locator("tbody tr").first().locator("td").count(), 24);

  report.step("no <style> element anywhere (the CSP's style-src 'self' holds)");
  assert.equal(await page.evaluate(() => document.querySelectorAll("style").length), 0);

  await axeCheck(page, report, "analytics");
  await page.screenshot({ path: join(shots, "analytics-desktop.png"), fullPage: true });

  report.step("Refresh one account: its own progress, or RefreshTooSoon's words, in its row");
  const row = page.getByRole("listitem", { name: `Sync of @${other} (X)` });
  await row.getByRole("button", { name: `Refresh @${other} (X)` }).click();
  await row.getByText(/Refreshing: |A refresh is already running: |You may refresh again at \d\d:\d\d:\d\d \(Asia\/Tokyo\)/).first().waitFor();

  report.step("Refresh all: progress, or RefreshTooSoon's words and when to retry");
  await page.getByRole("button", { name: "Refresh all", exact: true }).click();
  const outcome = page
    .getByText(/Refreshing: |A refresh is already running: |You may refresh again at \d\d:\d\d:\d\d \(Asia\/Tokyo\)/)
    .first();
  await outcome.waitFor();
  report.refresh = await outcome.innerText();
  // A second press within the cool-down is refused in words once the first sync has ended
  // (or it is the same sync while that one still runs).
  await page.getByRole("button", { name: "Refresh all", exact: true }).click();
  await page
    .getByText(/retry in \d+ s\. You may refresh again at|A refresh is already running: |Refreshing: /)
    .first()
    .waitFor();

  report.step("export CSV: a file saved through a Blob URL, the bearer token never in a URL");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Export CSV" }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^socialseed-analytics-\d{4}-\d{2}-\d{2}\.csv$/);
  assert.match(download.url(), /^blob:/);
  const csv = readFileSync(await download.path(), "utf8");
  assert.ok(csv.split("\n").length > 1, `the CSV has rows: ${csv.slice(0, 200)}`);

  report.step("report PDF: the period's report saved as a file, kept beside the screenshots");
  const [pdf] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "Report PDF" }).click(),
  ]);
  assert.match(pdf.suggestedFilename(), /^socialseed-report-\d{4}-\d{2}-\d{2}\.pdf$/);
  await pdf.saveAs(join(shots, "report.pdf"));
  const head = readFileSync(join(shots, "report.pdf")).subarray(0, 5).toString("latin1");
  assert.equal(head, "%PDF-", "the report is a PDF");

  report.step("screenshots: dark, 375px");
  await page.getByRole("button", { name: "Switch to dark theme" }).click();
  await axeCheck(page, report, "analytics-dark");
  await page.screenshot({ path: join(shots, "analytics-desktop-dark.png"), fullPage: true });
  await page.setViewportSize({ width: 375, height: 812 });
  // The chart redraws at its new width on the next ResizeObserver callback.
  await page
    .waitForFunction(() => document.documentElement.scrollWidth <= 375, null, { timeout: 5_000 })
    .catch(() => {});
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll("body *")]
      .filter((e) => e.getBoundingClientRect().right > 376 && !e.closest(".overflow-x-auto"))
      .slice(-3)
      .map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`),
  );
  report.wide = wide;
  assert.deepEqual(wide, [], "elements wider than 375px");
  await noHorizontalScroll(page, 375);
  await page.screenshot({ path: join(shots, "analytics-375-dark.png"), fullPage: true });
  await page.getByRole("button", { name: "Switch to light theme" }).click();
  await axeCheck(page, report, "analytics-375");
  await page.screenshot({ path: join(shots, "analytics-375.png"), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  report.step("a post published now: its own numbers on its page once fetched");
  await page.getByRole("link", { name: "Compose", exact: true }).first().click();
  await page.getByLabel("Text", { exact: true }).fill("Numbers, please");
  await page.getByRole("checkbox", { name: `X @${username}` }).check();
  await page.getByRole("button", { name: "Publish now" }).click();
  await page.waitForURL(/\/posts\/[0-9a-f-]{36}$/);
  const numbers = page.getByRole("region", { name: "X numbers" });
  // "No numbers yet" until published and fetched; the section asks again by itself.
  await numbers.waitFor({ timeout: 120_000 });
  for (const metric of ["likes", "engagements"]) {
    assert.match(await numbers.locator(`[data-metric="${metric}"]`).innerText(), /^[\d,]+$/, metric);
  }
  assert.match(await numbers.getByRole("link", { name: "Open on X" }).getAttribute("href"), new RegExp(`^https://x\\.com/${username}/status/`));
  await axeCheck(page, report, "post-analytics");
  await page.screenshot({ path: join(shots, "post-analytics-desktop.png"), fullPage: true });

  // The signed-out first visit's silent refresh answers 401; RefreshTooSoon's 429 is what the
  // second press may answer; the rest must be clean.
  const unexpected = report.problems.filter(
    (p) =>
      !p.startsWith(`429 POST ${base}/api/v1/analytics/refresh`),
  );
  assert.deepEqual(unexpected, [], "console errors (CSP violations among them) or failed requests");
  console.log(JSON.stringify({ ok: true, ...report }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), ...report }));
  process.exitCode = 1;
} finally {
  await close();
}
