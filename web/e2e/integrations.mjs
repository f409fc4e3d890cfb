// The Integrations page in the browser against the real stack: a newcomer's workspace adds a
// webhook endpoint pointing at a receiver the Python test runs (a refused URL first: the
// server's WebhookUrlRefused next to the field), copies its signing secret (shown once), sends
// a test event and sees the delivery listed with the receiver's 2xx, redelivers it, edits the
// events, rotates the secret (shown once) and sends 21 more tests (the deliveries paged by
// cursor: Load more); makes an API key, uses it
// from here (Node's fetch, not the page) to read the workspace through the gateway, revokes it
// (confirmed), sees the list empty and the key refused; deletes the endpoint (confirmed). axe on each state; screenshots at
// desktop width, dark and 375px. The report carries both secrets and the key for the test.
// Usage: node e2e/integrations.mjs <app url> <receiver url> [screenshot dir]
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { axeCheck, launch, newReport, noHorizontalScroll, signUpWithWorkspace, watch } from "./support.mjs";

const [base, receiver, shots = "test-results/screenshots"] = process.argv.slice(2);
assert.ok(base && receiver, "usage: integrations.mjs <app url> <receiver url> [screenshot dir]");
mkdirSync(shots, { recursive: true });
const TIMEOUT = 30_000;
const stamp = Date.now().toString(36);
const MORE = 20; // tests after the rotation: one more than a page of deliveries holds

const report = newReport();
const browser = await launch();

try {
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(TIMEOUT);
  watch(page, report);

  report.step("sign up with a workspace and open Integrations from the navigation");
  await signUpWithWorkspace(page, base, {
    name: "Ines Integrator",
    email: `integrator-${stamp}@example.com`,
    workspace: "Ines's shop",
    zone: "Europe/Paris",
  });
  const workspace = new URL(page.url()).pathname.split("/")[2];
  await page.getByRole("navigation", { name: "Workspace pages" }).getByRole("link", { name: "Integrations" }).click();
  await page.getByRole("heading", { name: "Integrations", level: 1 }).waitFor();
  await page.getByText("No webhook endpoints yet").waitFor();
  await page.getByText("No API keys").waitFor();
  await axeCheck(page, report, "integrations-empty");

  report.step("a refused URL: the server's words next to the field, nothing created");
  const add = page.getByRole("form", { name: "Add a webhook endpoint" });
  const url = add.getByLabel("Endpoint URL");
  await url.fill("http://169.254.169.254/latest/meta-data");
  await add.getByRole("button", { name: "Add endpoint" }).click();
  await page.waitForFunction(() =>
    document.querySelector('form[aria-label="Add a webhook endpoint"] input[type=url][aria-invalid=true]'),
  );
  const describedBy = await url.getAttribute("aria-describedby");
  const words = await page.locator(`[id="${describedBy.split(" ").pop()}"]`).innerText();
  assert.match(words, /169\.254\.169\.254/, `the refusal next to the URL: ${words}`);
  await axeCheck(page, report, "integrations-refused-url");
  await page.getByText("No webhook endpoints yet").waitFor();

  report.step("add the receiver: its signing secret is shown once, copyable");
  const hookUrl = `${receiver}/hook/browser-${stamp}`;
  await url.fill(hookUrl);
  await add.getByLabel("Description (optional)").fill("Receiver");
  await add.getByRole("checkbox", { name: /account\.connected/ }).check();
  await add.getByRole("button", { name: "Add endpoint" }).click();
  const secretBox = page.getByRole("textbox", { name: "Signing secret" });
  const secret = await secretBox.inputValue();
  assert.match(secret, /^whsec_/);
  await page.getByText("You won't see it again.").waitFor();
  await page.getByRole("button", { name: "Copy the signing secret" }).click();
  await page.getByText("Copied.").waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
  await axeCheck(page, report, "integrations-secret");
  await page.screenshot({ path: join(shots, "integrations-secret-desktop.png"), fullPage: true });
  await page.getByRole("button", { name: "I have stored it" }).click();
  await secretBox.waitFor({ state: "detached" });
  const endpoints = page.getByRole("list", { name: "Webhook endpoints" });
  await endpoints.getByText(hookUrl).waitFor();
  await endpoints.getByText("post.published, post.failed, account.connected").waitFor();
  assert.equal(await page.getByText(secret).count(), 0, "the secret stays hidden once stored");

  report.step("send a test event: the delivery is listed with the receiver's 200");
  await page.getByRole("button", { name: "Send test event to Receiver" }).click();
  const deliveries = page.getByRole("list", { name: "Deliveries to Receiver" });
  const first = deliveries.getByRole("listitem").first();
  await first.getByText("webhook.test").waitFor();
  await first.getByText(/^Answered 200 in \d+ ms$/).waitFor();
  await first.getByText("Delivered").waitFor();

  report.step("redeliver it: a second delivery, newest first, also 200");
  await first.getByRole("button", { name: /^Redeliver webhook\.test of / }).click();
  await page.getByText("Queued again under the same webhook-id.").waitFor();
  await deliveries.getByRole("listitem").nth(1).waitFor();
  await deliveries.getByText("Delivered").nth(1).waitFor();
  await axeCheck(page, report, "integrations-deliveries");

  report.step("edit: events changed, saved, listed");
  await page.getByRole("button", { name: "Edit Receiver" }).click();
  const edit = page.getByRole("form", { name: "Edit Receiver" });
  await edit.getByRole("checkbox", { name: /post\.failed/ }).uncheck();
  await edit.getByRole("checkbox", { name: /post\.scheduled/ }).check();
  await axeCheck(page, report, "integrations-edit");
  await edit.getByRole("button", { name: "Save changes" }).click();
  await edit.waitFor({ state: "detached" });
  await endpoints.getByText("post.scheduled, post.published, account.connected").waitFor();

  report.step("rotate the secret (confirmed): a new one shown once; a test signed with it");
  await page.getByRole("button", { name: "Rotate secret of Receiver" }).click();
  const rotateDialog = page.getByRole("dialog", { name: "Rotate the signing secret?" });
  await axeCheck(page, report, "integrations-rotate-dialog");
  await rotateDialog.getByRole("button", { name: "Rotate", exact: true }).click();
  const rotated = await page.getByRole("textbox", { name: "New signing secret" }).inputValue();
  assert.match(rotated, /^whsec_/);
  assert.notEqual(rotated, secret);
  await page.getByRole("button", { name: "I have stored it" }).click();
  await page.getByRole("button", { name: "Send test event to Receiver" }).click();
  await deliveries.getByRole("listitem").nth(2).waitFor();
  await deliveries.getByText("Delivered").nth(2).waitFor();

  report.step("20 more tests: the first page holds 20, Load more brings the rest by cursor");
  const send = page.getByRole("button", { name: "Send test event to Receiver" });
  for (let i = 0; i < MORE; i += 1) await send.click(); // each waits for the last one's answer
  // The last one answered and its list asked again (a page asked for in between would be
  // cancelled by that refresh: Load more is disabled while the list is being asked again).
  await page.waitForFunction(() => {
    const button = document.querySelector('button[aria-label="Send test event to Receiver"]');
    return button && !button.disabled;
  });
  const loadMore = page.getByRole("button", { name: "Load more" });
  await loadMore.waitFor();
  assert.equal(await deliveries.getByRole("listitem").count(), 20);
  await loadMore.click();
  await deliveries.getByRole("listitem").nth(MORE + 2).waitFor();
  assert.equal(await deliveries.getByRole("listitem").count(), MORE + 3);
  await loadMore.waitFor({ state: "detached" });
  // The list asks again while one is pending: every one ends Delivered.
  await deliveries.getByText("Delivered", { exact: true }).nth(MORE + 2).waitFor({ timeout: 60_000 });

  report.step("screenshots: desktop, dark, 375px");
  await page.screenshot({ path: join(shots, "integrations-desktop.png"), fullPage: true });
  await page.getByRole("button", { name: "Switch to dark theme" }).click();
  await axeCheck(page, report, "integrations-dark");
  await page.screenshot({ path: join(shots, "integrations-desktop-dark.png"), fullPage: true });
  await page.getByRole("button", { name: "Switch to light theme" }).click();
  await page.setViewportSize({ width: 375, height: 800 });
  await noHorizontalScroll(page, 375);
  await axeCheck(page, report, "integrations-375");
  await page.screenshot({ path: join(shots, "integrations-375.png"), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  report.step("make an API key: shown once; it reads the workspace through the gateway");
  const keyForm = page.getByRole("form", { name: "Make an API key" });
  await keyForm.getByLabel("Key name").fill("Nightly report");
  await keyForm.getByLabel("Key role").selectOption("viewer");
  await keyForm.getByRole("button", { name: "Make key" }).click();
  const key = await page.getByRole("textbox", { name: "API key" }).inputValue();
  assert.match(key, /^ssk_[A-Za-z0-9_-]{43}$/);
  await axeCheck(page, report, "integrations-key");
  await page.getByRole("button", { name: "I have stored it" }).click();
  const keys = page.getByRole("list", { name: "API keys" });
  await keys.getByText("Nightly report", { exact: true }).waitFor();
  await keys.getByText(`${key.slice(0, 12)}…`).waitFor();
  await keys.getByText("Viewer", { exact: true }).waitFor();
  const asKey = () => fetch(`${base}/api/v1/workspaces/${workspace}`, { headers: { Authorization: `Bearer ${key}` } });
  const read = await asKey();
  assert.equal(read.status, 200, await read.clone().text());
  assert.equal((await read.json()).name, "Ines's shop");
  await page.reload();
  await keys.getByText(/last used /).waitFor();

  report.step("revoke it (confirmed): the list is empty and the key refused");
  await page.getByRole("button", { name: "Revoke the key Nightly report" }).click();
  await page.getByRole("dialog", { name: "Revoke Nightly report?" }).getByRole("button", { name: "Revoke", exact: true }).click();
  await page.getByText("No API keys").waitFor();
  assert.equal((await asKey()).status, 401);

  report.step("delete the endpoint (confirmed): none left");
  await page.getByRole("button", { name: "Delete Receiver" }).click();
  const deleteDialog = page.getByRole("dialog", { name: "Delete Receiver?" });
  await deleteDialog.getByRole("button", { name: "Keep it" }).click();
  await endpoints.waitFor();
  await page.getByRole("button", { name: "Delete Receiver" }).click();
  await deleteDialog.getByRole("button", { name: "Delete", exact: true }).click();
  await page.getByText("No webhook endpoints yet").waitFor();

  // The refused URL is the server's named 400, shown on the form.
  const unexpected = report.problems.filter((p) => !p.startsWith("400 POST") || !p.endsWith("/api/v1/webhooks"));
  assert.deepEqual(unexpected, [], "console errors or failed requests");
  console.log(JSON.stringify({ ok: true, workspace, hook_path: new URL(hookUrl).pathname, secret, rotated, key, ...report }));
} catch (error) {
  await browser.context.pages()[0]?.screenshot({ path: join(shots, "integrations-failed.png"), fullPage: true }).catch(() => {});
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), ...report }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
