// Drafts and alt text in the browser against the real stack: a user uploads an image in the
// composer and describes it (alt text saved on the media), saves the post as a draft (no
// time), finds it under the Drafts filter, publishes it now from its page and sees it
// published; the sandbox's record of the tweet carries the alt text. axe on each page;
// screenshots at desktop width and 375px.
// Usage: node e2e/drafts.mjs <app url> <sandbox url> <jpeg path> <screenshot dir>
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { axeCheck, launch, newReport, noHorizontalScroll, watch, connectAccount, signUpWithWorkspace } from "./support.mjs";

const [base, sandbox, image, shots = "test-results/screenshots"] = process.argv.slice(2);
assert.ok(base && sandbox && image, "usage: drafts.mjs <app url> <sandbox url> <jpeg> [screenshot dir]");
mkdirSync(shots, { recursive: true });
const TIMEOUT = 30_000;
const stamp = Date.now().toString(36);
const username = `drafter_${stamp}`;
const ALT = "A cup of coffee on a windowsill at dawn";

const report = newReport();
const { context, close } = await launch();

try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(TIMEOUT);
  watch(page, report);

  report.step("sign up, create a workspace, connect X");
  await signUpWithWorkspace(page, base, { name: "Dora Drafter", email: `drafter-${stamp}@example.com`, workspace: "Dora's drafts" });
  await connectAccount(page, base, "X", username);

  report.step("compose with an image and its alt text");
  await page.getByRole("link", { name: "Compose", exact: true }).first().click();
  await page.getByRole("heading", { name: "Compose" }).waitFor();
  await page.getByLabel("Text", { exact: true }).fill(`Coffee at dawn ${stamp}`);
  await page.getByRole("checkbox", { name: `X @${username}` }).check();
  await page.getByLabel("Media", { exact: true }).setInputFiles(image);
  const alt = page.getByLabel("Alt text for coffee.jpg");
  await alt.fill("x".repeat(1001));
  await page.getByText("1,001 / 1,000 characters — too long for X").waitFor();
  await alt.fill(ALT);
  await alt.press("Tab");
  await page.getByText("Saved; sent to X, LinkedIn and Instagram").waitFor();
  await axeCheck(page, report, "composer-alt-text");

  report.step("save it as a draft: its page says nothing is published");
  await page.getByRole("button", { name: "Save draft" }).click();
  await page.getByRole("heading", { name: "Draft, no time yet" }).waitFor();
  const postUrl = page.url();
  const targets = page.getByRole("list", { name: "Accounts and their state" });
  await targets.getByText("Draft, no time yet").waitFor();
  await page.getByRole("heading", { name: "This is a draft" }).waitFor();
  await axeCheck(page, report, "draft");
  await page.screenshot({ path: join(shots, "draft-desktop.png"), fullPage: true });
  await page.setViewportSize({ width: 375, height: 800 });
  await noHorizontalScroll(page, 375);
  await page.screenshot({ path: join(shots, "draft-375.png"), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  report.step("the Drafts filter lists it");
  await page.getByRole("link", { name: "Posts", exact: true }).click();
  await page.getByLabel("Status").selectOption("draft");
  const posts = page.getByRole("list", { name: "Posts" });
  await posts.getByText(`Coffee at dawn ${stamp}`).waitFor();
  await posts.getByText("Draft, no time yet").waitFor();
  await axeCheck(page, report, "posts-drafts");

  report.step("publish it now from its page; it is published with its alt text");
  await page.goto(postUrl);
  await page.getByRole("button", { name: "Publish now" }).click();
  await targets.getByText(/^Published /).waitFor({ timeout: 120_000 });
  const r = await fetch(`${sandbox}/_sandbox/ledger?account=${username}`);
  const entries = (await r.json()).entries;
  assert.equal(entries.length, 1, "one tweet");
  assert.deepEqual(
    entries[0].media.map((m) => m.alt_text),
    [ALT],
    "the tweet's image carries its alt text",
  );

  const unexpected = report.problems.filter(
    (p) =>
      !(p.startsWith("400 POST") && p.endsWith("/api/v1/posts/validate")),
  );
  assert.deepEqual(unexpected, [], "console errors or CSP violations");
  console.log(JSON.stringify({ ok: true, ...report }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), ...report }));
  process.exitCode = 1;
} finally {
  await close();
}
