// Publishing in the browser against the real stack: a user connects two sandbox X accounts,
// composes a post whose X text is over 280 (the count and the server's named error shown next
// to the account), fixes it on screen, meets a wall time the zone skips (the server's words
// next to the picker), schedules it two minutes ahead in the workspace's zone and later sees it
// published with its link; cancels a scheduled post; sees a publish fail with the platform's
// reason in words, reconnects the account and retries it to published; filters the posts
// list. axe on every page; screenshots at desktop width and 375px, light and dark.
// Usage: node e2e/publishing.mjs <app url> <sandbox url> <screenshot dir>
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { axeCheck, launch, newReport, noHorizontalScroll, wallTime, watch, connectAccount, signUpWithWorkspace } from "./support.mjs";

const [base, sandbox, shots = "test-results/screenshots"] = process.argv.slice(2);
assert.ok(base && sandbox, "usage: publishing.mjs <app url> <sandbox url> [screenshot dir]");
mkdirSync(shots, { recursive: true });
const ZONE = "Europe/Paris";
const TIMEOUT = 30_000;
const stamp = Date.now().toString(36);
const first = `nadia_${stamp}`;
const second = `bakery_${stamp}`;

const report = newReport();
const { context, close } = await launch();

async function sandboxAccountId(username) {
  const r = await fetch(`${sandbox}/_sandbox/accounts?platform=x`);
  const found = (await r.json()).accounts.find((a) => a.username === username);
  assert.ok(found, `the sandbox knows @${username}`);
  return found.id;
}

function target(page, username) {
  return page.getByRole("group", { name: `Settings for X @${username}` });
}

try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(TIMEOUT);
  watch(page, report);

  report.step("sign up, create a workspace in Europe/Paris, connect two X accounts");
  await signUpWithWorkspace(page, base, { name: "Nadia Poster", email: `poster-${stamp}@example.com`, workspace: "Nadia's bakery", zone: ZONE });
  const workspace = page.url().split("/")[4];
  await connectAccount(page, base, "X", first);
  await connectAccount(page, base, "X", second);

  report.step("an empty posts list says so");
  await page.getByRole("link", { name: "Posts", exact: true }).click();
  await page.getByText("No posts yet").waitFor();
  await axeCheck(page, report, "posts-empty");

  report.step("compose: X text over 280 is counted and refused next to the account");
  await page.getByRole("link", { name: "Compose", exact: true }).first().click();
  await page.getByRole("heading", { name: "Compose" }).waitFor();
  await page.getByLabel("Text", { exact: true }).fill("b".repeat(290));
  await page.getByRole("checkbox", { name: `X @${first}` }).check();
  const panel = target(page, first);
  await panel.getByText("290 / 280 characters as X counts them — 10 over").waitFor();
  await panel
    .getByText("The post is 290 characters as X counts them; X allows 280.")
    .waitFor();
  await panel.getByText("Breaks the platform's rules:").waitFor();
  assert.equal(await page.getByRole("button", { name: "Publish now" }).isDisabled(), true);
  await axeCheck(page, report, "composer-invalid");
  await page.screenshot({ path: join(shots, "composer-invalid-desktop.png"), fullPage: true });

  report.step("fixed on screen: a URL counts 23, the server says it is ready");
  const text = `Fresh croissants at 7, every morning: https://example.com/${"menu/".repeat(20)}`;
  await page.getByLabel("Text", { exact: true }).fill(text);
  await panel.getByText(`${38 + 23} / 280 characters as X counts them`).waitFor();
  await panel.getByText("Ready for X.").waitFor();

  report.step("a wall time the zone skips is explained by the server, next to the picker");
  await page.getByRole("radio", { name: "Schedule for later" }).check();
  await page.getByText(/Time zone: Europe\/Paris \(UTC\+0[12]:00\), the workspace's\./).waitFor();
  const now = new Date();
  const year = now.getUTCMonth() >= 2 ? now.getUTCFullYear() + 1 : now.getUTCFullYear();
  const lastSunday = 31 - new Date(Date.UTC(year, 2, 31)).getUTCDay();
  const picker = page.getByLabel(`Date and time in ${ZONE}`);
  await picker.fill(`${year}-03-${lastSunday}T02:30`);
  await page
    .getByRole("alert")
    .filter({ hasText: `does not exist in ${ZONE}: the clocks jump from` })
    .waitFor();
  assert.equal(await picker.getAttribute("aria-invalid"), "true");
  await axeCheck(page, report, "composer-dst-gap");

  report.step("schedule it two minutes ahead in the workspace's zone");
  const due = wallTime(ZONE, 2);
  await picker.fill(due);
  await panel.getByText("Ready for X.").waitFor();
  await page.getByText("Ready.", { exact: true }).waitFor();
  await page.getByRole("button", { name: "Schedule", exact: true }).click();
  await page.waitForURL(/\/posts\/[0-9a-f-]{36}$/);
  const scheduledUrl = page.url();
  const targets = page.getByRole("list", { name: "Accounts and their state" });
  await targets.getByText(/^Scheduled for .* \(Europe\/Paris\)$/).waitFor();
  const [day, time] = due.split("T");
  assert.match(await targets.innerText(), new RegExp(`${Number(day.slice(8))} \\w+ ${day.slice(0, 4)}, ${time}`));
  await axeCheck(page, report, "post-scheduled");

  report.step("a post scheduled tomorrow is cancelled");
  await page.getByRole("link", { name: "Compose", exact: true }).first().click();
  await page.getByLabel("Text", { exact: true }).fill("Closed for the holidays");
  await page.getByRole("checkbox", { name: `X @${first}` }).check();
  await page.getByRole("radio", { name: "Schedule for later" }).check();
  const tomorrow = wallTime(ZONE, 24 * 60 - 10);
  await page.getByLabel(`Date and time in ${ZONE}`).fill(tomorrow);
  await page.getByText("Ready.", { exact: true }).waitFor();
  await page.getByRole("button", { name: "Schedule", exact: true }).click();
  await page.waitForURL(/\/posts\/[0-9a-f-]{36}$/);
  const tomorrowUrl = page.url();

  report.step("the calendar: drag it a day later; a drop in the past is refused in words");
  await page.getByRole("link", { name: "Calendar", exact: true }).click();
  const onDay = tomorrow.slice(0, 10);
  const shift = (date, days) => new Date(Date.parse(`${date}T12:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
  const chip = (date) => page.locator(`li[data-date="${date}"]`).getByRole("link", { name: /Closed for the holidays/ });
  await chip(onDay).waitFor();
  await axeCheck(page, report, "calendar-month");
  await page.screenshot({ path: join(shots, "calendar-month-desktop.png"), fullPage: true });
  await chip(onDay).dragTo(page.locator(`li[data-date="${shift(onDay, 1)}"]`));
  await page.getByRole("status").filter({ hasText: /^Moved to / }).waitFor();
  await chip(shift(onDay, 1)).waitFor();
  await chip(shift(onDay, 1)).dragTo(page.locator(`li[data-date="${shift(onDay, -1)}"]`));
  await page.getByRole("alert").filter({ hasText: /^Could not move the post: .* has passed/ }).waitFor();
  await chip(shift(onDay, 1)).waitFor();
  await page.getByRole("button", { name: "Week" }).click();
  await page.getByRole("grid").waitFor();
  await axeCheck(page, report, "calendar-week");
  await page.getByRole("button", { name: "List" }).click();
  await page.getByRole("list", { name: /^Posts of / }).getByText("Closed for the holidays").waitFor();

  report.step("it is cancelled from its page");
  await page.goto(tomorrowUrl);
  await page.getByRole("button", { name: "Cancel post" }).click();
  const dialog = page.getByRole("dialog", { name: "Cancel this post?" });
  await axeCheck(page, report, "cancel-dialog");
  await dialog.getByRole("button", { name: "Cancel post" }).click();
  await page.getByRole("heading", { name: /^Post for/ }).locator("..").getByText("Cancelled").waitFor();
  await page.getByRole("button", { name: "Cancel post" }).waitFor({ state: "detached" });

  report.step("a publish that fails shows the platform's reason in words");
  const revoked = await fetch(`${sandbox}/_sandbox/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ platform: "x", revoke_tokens: true, account: await sandboxAccountId(second) }),
  });
  assert.equal(revoked.status, 200);
  await fetch(`${sandbox}/_sandbox/faults/${(await revoked.json()).id}`, { method: "DELETE" });
  await page.getByRole("link", { name: "Compose", exact: true }).first().click();
  await page.getByLabel("Text", { exact: true }).fill("Sourdough is back");
  await page.getByRole("checkbox", { name: `X @${second}` }).check();
  await target(page, second).getByText("Ready for X.").waitFor();
  await page.getByRole("button", { name: "Publish now" }).click();
  await page.waitForURL(/\/posts\/[0-9a-f-]{36}$/);
  const failedUrl = page.url();
  await targets.getByText("Failed", { exact: true }).waitFor();
  await targets.getByText(/Reconnect it, then publish again\./).waitFor();
  await axeCheck(page, report, "post-failed");
  await page.screenshot({ path: join(shots, "post-failed-desktop.png"), fullPage: true });

  report.step("reconnect the account, then Retry publishes it");
  await page.getByRole("link", { name: "Accounts", exact: true }).click();
  await page.getByRole("button", { name: `Reconnect ${second}` }).click();
  await page.waitForURL((url) => !url.toString().startsWith(base));
  await page.getByLabel("Username").fill(second);
  await page.getByRole("button", { name: "Allow" }).click();
  await page.waitForURL((url) => url.toString().startsWith(base) && url.pathname.endsWith("/accounts"));
  await page.goto(failedUrl);
  await page.getByRole("button", { name: /^Retry/ }).click();
  await targets.getByText(/^Published /).waitFor();
  const retriedLink = await targets.getByRole("link", { name: "View on X" }).getAttribute("href");
  assert.match(retriedLink, new RegExp(`^https://x\\.com/${second}/status/\\w+$`));
  await page.getByRole("button", { name: /^Retry/ }).waitFor({ state: "detached" });

  report.step("the posts list, filtered by status");
  await page.getByRole("link", { name: "Posts", exact: true }).click();
  const list = page.getByRole("list", { name: "Posts" });
  await list.getByRole("link").nth(2).waitFor();
  assert.equal(await list.getByRole("link").count(), 3);
  await page.getByLabel("Status").selectOption("cancelled");
  await list.getByText("Closed for the holidays").waitFor();
  await list.getByText("Sourdough is back").waitFor({ state: "detached" });
  assert.equal(await list.getByRole("link").count(), 1);
  await axeCheck(page, report, "posts-list");

  report.step("screenshots of the composer at 375px, light and dark");
  await page.setViewportSize({ width: 375, height: 812 });
  await page.getByRole("link", { name: "Compose", exact: true }).first().click();
  await page.getByRole("checkbox", { name: `X @${first}` }).check();
  await page.getByLabel("Text", { exact: true }).fill("Ça sent bon 🥐 https://example.com");
  await target(page, first).getByText("Ready for X.").waitFor();
  await noHorizontalScroll(page, 375);
  await page.screenshot({ path: join(shots, "composer-375-light.png"), fullPage: true });
  await page.getByRole("button", { name: "Switch to dark theme" }).click();
  await axeCheck(page, report, "composer-375-dark");
  await page.screenshot({ path: join(shots, "composer-375-dark.png"), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  report.step("the scheduled post is published at its time, with its link");
  await page.goto(scheduledUrl);
  await targets.getByText(/^Published /).waitFor({ timeout: 180_000 });
  const link = await targets.getByRole("link", { name: "View on X" }).getAttribute("href");
  assert.match(link, new RegExp(`^https://x\\.com/${first}/status/\\w+$`));
  await axeCheck(page, report, "post-published-dark");
  await page.screenshot({ path: join(shots, "post-published-desktop-dark.png"), fullPage: true });
  assert.ok(workspace);

  // The gap is a named 400 of the validate call, the drop in the past one of the PATCH.
  const unexpected = report.problems.filter(
    (p) =>
      !(p.startsWith("400 POST") && p.endsWith("/api/v1/posts/validate")) &&
      !(p.startsWith("400 PATCH") && p.includes("/api/v1/posts/")),
  );
  assert.deepEqual(unexpected, [], "console errors or CSP violations");
  console.log(JSON.stringify({ ok: true, ...report }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), ...report }));
  process.exitCode = 1;
} finally {
  await close();
}
