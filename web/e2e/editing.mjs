// Previews and editing in the browser against the real stack: a user connects a sandbox X and a
// sandbox LinkedIn account, composes a post for X with a thread reply (the X preview shows the
// thread), schedules it for tomorrow, then opens it and edits its accounts and options with the
// composer's own form: adds LinkedIn (its preview appears, folded at "…see more"), limits X's
// replies (the X preview says so), makes the LinkedIn post for connections only; the server
// accepts the edit, and the reopened editor reads the options back from the server. axe on each
// step; screenshots of the composer with its previews at desktop width and 375px.
// Usage: node e2e/editing.mjs <app url> <screenshot dir>
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { axeCheck, launch, newReport, noHorizontalScroll, wallTime, watch, connectAccount, signUpWithWorkspace } from "./support.mjs";

const [base, shots = "test-results/screenshots"] = process.argv.slice(2);
assert.ok(base, "usage: editing.mjs <app url> [screenshot dir]");
mkdirSync(shots, { recursive: true });
const ZONE = "Europe/Paris";
const TIMEOUT = 30_000;
const stamp = Date.now().toString(36);
const xName = `menu_${stamp}`;
const liLogin = `chef_${stamp}`;
// LinkedIn has no handle: the account is known by the member's name (the sandbox's: the login
// in title case, as Python's str.title() makes it)
const liName = liLogin.replace(/_/g, " ").replace(/[a-z]+/gi, (w) => w[0].toUpperCase() + w.slice(1).toLowerCase());
// 250 characters: whole on X (under 280), folded on LinkedIn (after about 210)
const TEXT = `Spring menu: ${"fresh peas, wild garlic, lamb. ".repeat(8)}`.slice(0, 250);

const report = newReport();
const { context, close } = await launch();

try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(TIMEOUT);
  watch(page, report);

  report.step("sign up, create a workspace, connect X and LinkedIn");
  await signUpWithWorkspace(page, base, { name: "Eda Editor", email: `editor-${stamp}@example.com`, workspace: "Eda's kitchen", zone: ZONE });
  await connectAccount(page, base, "X", xName);
  await connectAccount(page, base, "LinkedIn", liLogin, liName);

  report.step("compose for X with a thread reply: the X preview shows the thread");
  await page.getByRole("link", { name: "Compose", exact: true }).first().click();
  await page.getByRole("heading", { name: "Compose" }).waitFor();
  await page.getByLabel("Text", { exact: true }).fill(TEXT);
  await page.getByRole("checkbox", { name: `X @${xName}`, exact: true }).check();
  await page.getByRole("button", { name: "Add a reply to the thread" }).click();
  await page.getByLabel(`Reply 1 for X @${xName}`).fill("Book a table: reply here.");
  const xPreview = page.getByRole("region", { name: `Preview on X @${xName}` });
  const thread = xPreview.getByRole("list", { name: "The thread" });
  await thread.getByText("Book a table: reply here.").waitFor();
  assert.equal(await thread.getByRole("listitem").count(), 2);
  assert.ok((await thread.getByRole("listitem").first().innerText()).includes(TEXT.trim()));
  await page.getByRole("radio", { name: "Schedule for later" }).check();
  await page.getByLabel(`Date and time in ${ZONE}`).fill(wallTime(ZONE, 24 * 60));
  await page.getByText("Ready.", { exact: true }).waitFor();
  await axeCheck(page, report, "composer-previews");
  await page.screenshot({ path: join(shots, "composer-previews-desktop.png"), fullPage: true });
  await page.setViewportSize({ width: 375, height: 800 });
  await noHorizontalScroll(page, 375);
  await axeCheck(page, report, "composer-previews-375");
  await page.screenshot({ path: join(shots, "composer-previews-375.png"), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByRole("button", { name: "Schedule", exact: true }).click();
  await page.waitForURL(/\/posts\/[0-9a-f-]{36}$/);
  const targets = page.getByRole("list", { name: "Accounts and their state" });
  await targets.getByText(/^Scheduled for /).waitFor();
  assert.equal(await targets.getByRole("listitem").count(), 1);

  report.step("edit its accounts and options: LinkedIn added, its preview folds; X replies limited");
  await page.getByRole("button", { name: "Edit accounts, media and options" }).click();
  const editor = page.getByRole("form", { name: "Edit the post" });
  await editor.waitFor();
  assert.equal(await editor.getByRole("checkbox", { name: `X @${xName}`, exact: true }).isChecked(), true);
  assert.equal(await editor.getByLabel(`Reply 1 for X @${xName}`).inputValue(), "Book a table: reply here.");
  const liPreview = editor.getByRole("region", { name: `Preview on LinkedIn @${liName}` });
  assert.equal(await liPreview.count(), 0);
  await editor.getByRole("checkbox", { name: `LinkedIn @${liName}`, exact: true }).check();
  await liPreview.getByText("…see more").waitFor();
  const shown = await liPreview.locator("p").first().innerText();
  assert.ok(shown.length < TEXT.length, "LinkedIn's preview folds the text");
  const editedX = editor.getByRole("region", { name: `Preview on X @${xName}` });
  assert.equal(await editedX.getByText("Who can reply is limited.").count(), 0);
  await editor.getByLabel(`Who can reply on X @${xName}`).selectOption("following");
  await editedX.getByText("Who can reply is limited.").waitFor();
  await editor.getByLabel(`Who sees it on LinkedIn @${liName}`).selectOption("CONNECTIONS");
  await editor.getByRole("group", { name: `Settings for LinkedIn @${liName}` }).getByText("Ready for LinkedIn.").waitFor();
  await editor.getByText("Ready.", { exact: true }).waitFor();
  await axeCheck(page, report, "post-editor");
  await page.screenshot({ path: join(shots, "post-editor-desktop.png"), fullPage: true });

  report.step("the server accepts the edit; the reopened editor reads the options back");
  await editor.getByRole("button", { name: "Save changes" }).click();
  await editor.waitFor({ state: "detached" });
  await targets.getByText(`@${liName}`).waitFor();
  assert.equal(await targets.getByRole("listitem").count(), 2);
  await page.reload();
  await page.getByRole("button", { name: "Edit accounts, media and options" }).click();
  await editor.waitFor();
  assert.equal(await editor.getByLabel(`Who sees it on LinkedIn @${liName}`).inputValue(), "CONNECTIONS");
  assert.equal(await editor.getByLabel(`Who can reply on X @${xName}`).inputValue(), "following");
  assert.equal(await editor.getByLabel(`Reply 1 for X @${xName}`).inputValue(), "Book a table: reply here.");
  await page.setViewportSize({ width: 375, height: 800 });
  await noHorizontalScroll(page, 375);
  await page.screenshot({ path: join(shots, "post-editor-375.png"), fullPage: true });

  // The signed-out first load's refresh is a 401.
  const unexpected = report.problems;
  assert.deepEqual(unexpected, [], "console errors, CSP violations or failed requests");
  console.log(JSON.stringify({ ok: true, ...report }));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), ...report }));
  process.exitCode = 1;
} finally {
  await close();
}
