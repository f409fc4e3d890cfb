// The first comment in the browser against the real stack: a user connects a LinkedIn
// account, composes a post with a First comment (its count against LinkedIn's 1,250 shown
// as it is typed, too long marked before it is sent), publishes it now, and sees on the post
// page that it is published and its first comment posted; the sandbox holds exactly one
// comment with that text under the post. axe on the composer and the post page.
// Usage: node e2e/first-comment.mjs <app url> <sandbox url> <screenshot dir>
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { axeCheck, launch, newReport, watch, connectAccount, signUpWithWorkspace } from "./support.mjs";

const [base, sandbox, shots = "test-results/screenshots"] = process.argv.slice(2);
assert.ok(base && sandbox, "usage: first-comment.mjs <app url> <sandbox url> [screenshot dir]");
mkdirSync(shots, { recursive: true });
const TIMEOUT = 30_000;
const stamp = Date.now().toString(36);
const username = `commenter_${stamp}`;
const COMMENT = `The details are on our site ${stamp}`;

const report = newReport();
const { context, close } = await launch();

try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(TIMEOUT);
  watch(page, report);

  report.step("sign up, create a workspace, connect LinkedIn");
  await signUpWithWorkspace(page, base, { name: "Cora Commenter", email: `commenter-${stamp}@example.com`, workspace: "Cora's comments" });
  await connectAccount(page, base, "LinkedIn", username, null);

  report.step("compose with a first comment, its count against LinkedIn's limit");
  await page.getByRole("link", { name: "Compose", exact: true }).first().click();
  await page.getByRole("heading", { name: "Compose" }).waitFor();
  await page.getByLabel("Text", { exact: true }).fill(`A post with a first comment ${stamp}`);
  await page.getByRole("checkbox", { name: /^LinkedIn / }).first().check();
  const comment = page.getByLabel(/^First comment on /);
  await comment.fill("x".repeat(1251));
  await page.getByText("1251 / 1250").waitFor();
  await comment.fill(COMMENT);
  await page.getByText(`${[...COMMENT].length} / 1250`).waitFor();
  await axeCheck(page, report, "composer-first-comment");

  report.step("publish now: published, and the first comment posted");
  await page.getByRole("button", { name: "Publish now" }).click();
  const targets = page.getByRole("list", { name: "Accounts and their state" });
  await targets.getByText(/^Published /).waitFor({ timeout: 120_000 });
  await targets.getByText("First comment posted").waitFor({ timeout: 60_000 });
  await axeCheck(page, report, "post-first-comment");
  await page.screenshot({ path: join(shots, "post-first-comment-desktop.png"), fullPage: true });
  const r = await fetch(`${sandbox}/_sandbox/comments?platform=linkedin`);
  const mine = (await r.json()).entries.filter((c) => c.text === COMMENT);
  assert.equal(mine.length, 1, "exactly one comment with the text");

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
