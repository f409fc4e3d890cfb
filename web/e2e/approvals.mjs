// Approvals and members in the browser against the real stack, two people in two browser
// profiles: an owner connects a sandbox X account, turns on approval, invites an editor by
// email; the editor signs up, accepts the invitation from the banner (the session's token is
// refreshed so the editor role is honoured), composes a post, which waits for approval; the
// owner finds it in Approvals and rejects it with a reason; the editor reads the reason on the
// post's page, edits the text and resubmits; the owner approves; it publishes. The owner's
// refused self-demotion (the last owner) is shown in words. axe on every page; screenshots at
// desktop width and 375px, light and dark.
// Usage: node e2e/approvals.mjs <app url> <sandbox url> <screenshot dir>
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { axeCheck, launch, newReport, noHorizontalScroll, watch } from "./support.mjs";

const [base, sandbox, shots = "test-results/screenshots"] = process.argv.slice(2);
assert.ok(base && sandbox, "usage: approvals.mjs <app url> <sandbox url> [screenshot dir]");
mkdirSync(shots, { recursive: true });
const TIMEOUT = 30_000;
const stamp = Date.now().toString(36);
const account = `review_${stamp}`;
const editorEmail = `editor-${stamp}@example.com`;
const REASON = "Please name the bakery and the opening hours.";

const report = newReport();
const owner = await launch();
const editor = await launch();

async function signUp(page, name, email) {
  await page.goto(`${base}/sign-up`);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("a long and private passphrase");
  await page.getByRole("button", { name: "Create account" }).click();
}

async function newPage(context) {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(TIMEOUT);
  watch(page, report);
  return page;
}

try {
  const a = await newPage(owner.context);
  const b = await newPage(editor.context);

  report.step("the owner signs up, creates a workspace and connects an X account");
  await signUp(a, "Olga Owner", `owner-${stamp}@example.com`);
  await a.getByRole("heading", { name: "Create a workspace" }).waitFor();
  await a.getByLabel("Workspace name").fill("Olga's bakery");
  await a.getByLabel("Time zone").selectOption("Europe/Paris");
  await a.getByRole("button", { name: "Create workspace" }).click();
  await a.getByRole("heading", { name: "Accounts", exact: true }).waitFor();
  const workspace = a.url().split("/")[4];
  await a.getByRole("button", { name: "Connect X", exact: true }).click();
  await a.waitForURL((url) => !url.toString().startsWith(base));
  await a.getByLabel("Username").fill(account);
  await a.getByRole("button", { name: "Allow" }).click();
  await a.waitForURL((url) => url.toString().startsWith(base) && url.pathname.endsWith("/accounts"));
  await a.getByRole("list", { name: "Accounts" }).getByText(`@${account}`, { exact: true }).waitFor();

  report.step("Members: the last owner cannot step down (in words); approval on; invite an editor");
  await a.getByRole("link", { name: "Members", exact: true }).click();
  await a.getByRole("heading", { name: "Members", level: 1 }).waitFor();
  await a.getByText("No open invitations").waitFor();
  await a.getByLabel("Role of Olga Owner").selectOption("admin");
  await a.getByRole("alert").filter({ hasText: "A workspace keeps at least one owner." }).waitFor();
  assert.equal(await a.getByLabel("Role of Olga Owner").inputValue(), "owner");
  const approval = a.getByRole("checkbox", { name: "Require approval of editors' posts" });
  const patched = a.waitForResponse(
    (r) => r.request().method() === "PATCH" && r.url().endsWith(`/workspaces/${workspace}`),
  );
  await approval.click();
  assert.equal((await patched).status(), 200);
  await a.getByRole("checkbox", { name: "Require approval of editors' posts", checked: true }).waitFor();
  await a.getByLabel("Email to invite").fill(editorEmail);
  await a.getByLabel("Role", { exact: true }).selectOption("editor");
  await a.getByRole("button", { name: "Invite", exact: true }).click();
  await a.getByText(`Invited ${editorEmail} as editor.`).waitFor();
  const open = a.getByRole("list", { name: "Open invitations" });
  await open.getByText(editorEmail).waitFor();
  await axeCheck(a, report, "members");
  await a.screenshot({ path: join(shots, "members-desktop.png"), fullPage: true });

  report.step("the editor signs up in another browser and accepts the invitation");
  await signUp(b, "Eddie Editor", editorEmail);
  const banner = b.getByRole("region", { name: "An invitation for you" });
  await banner.getByText("Join Olga's bakery as editor").waitFor();
  await axeCheck(b, report, "invitation-banner");
  await banner.getByRole("button", { name: "Accept the invitation to Olga's bakery" }).click();
  await b.waitForURL(`${base}/w/${workspace}/posts`);
  await b.getByText("No posts yet").waitFor();
  await banner.waitFor({ state: "detached" });
  // An editor sees no Approvals in the nav.
  assert.equal(await b.getByRole("link", { name: "Approvals" }).count(), 0);

  report.step("the editor composes; the post waits for approval");
  await b.getByRole("link", { name: "Compose", exact: true }).first().click();
  await b.getByLabel("Text", { exact: true }).fill("Fresh bread today!");
  await b.getByRole("checkbox", { name: `X @${account}` }).check();
  await b.getByText("Ready. An admin of this workspace approves it before it is published.").waitFor();
  await b.getByRole("button", { name: "Submit for approval" }).click();
  await b.waitForURL(/\/posts\/[0-9a-f-]{36}$/);
  const postUrl = b.url();
  await b.getByText("Waiting for an admin of the workspace to approve it.").waitFor();

  report.step("the owner finds it in Approvals and rejects it with a reason");
  await a.getByRole("link", { name: "Approvals", exact: true }).click();
  const queue = a.getByRole("list", { name: "Posts waiting for approval" });
  const item = queue.getByRole("listitem", { name: "Post by Eddie Editor" });
  await item.getByText("Fresh bread today!").waitFor();
  await item.getByText(`X @${account}`).waitFor();
  await a.getByText("Times in Europe/Paris, the workspace's zone.").waitFor();
  assert.match(await item.locator("time").innerText(), /^(For|Was due) \w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d/);
  await axeCheck(a, report, "approvals");
  await a.screenshot({ path: join(shots, "approvals-desktop.png"), fullPage: true });
  await item.getByRole("button", { name: /^Reject / }).click();
  const dialog = a.getByRole("dialog", { name: "Reject this post?" });
  assert.equal(await dialog.getByRole("button", { name: "Reject", exact: true }).isDisabled(), true);
  await dialog.getByLabel("Reason for the author").fill(REASON);
  await axeCheck(a, report, "reject-dialog");
  await dialog.getByRole("button", { name: "Reject", exact: true }).click();
  await a.getByText(/^Rejected the post by Eddie Editor/).waitFor();
  await a.getByText("Nothing waiting for approval").waitFor();

  report.step("the editor reads the reason, edits the text and resubmits");
  await b.goto(postUrl);
  await b.getByText(`Rejected: ${REASON}`).waitFor();
  await b.getByLabel("Edit the text, then submit it again").fill("Fresh bread at Olga's bakery, 7–13h!");
  await axeCheck(b, report, "post-rejected");
  await b.getByRole("button", { name: "Resubmit" }).click();
  await b.getByText("Waiting for an admin of the workspace to approve it.").waitFor();
  await b.getByText(`Rejected: ${REASON}`).waitFor({ state: "detached" });

  report.step("the owner approves the new text at 375px, dark; it publishes");
  await a.setViewportSize({ width: 375, height: 812 });
  await a.getByRole("button", { name: "Switch to dark theme" }).click();
  await a.reload();
  await item.getByText("Fresh bread at Olga's bakery, 7–13h!").waitFor();
  await noHorizontalScroll(a, 375);
  await axeCheck(a, report, "approvals-375-dark");
  await a.screenshot({ path: join(shots, "approvals-375-dark.png"), fullPage: true });
  await item.getByRole("button", { name: /^Approve / }).click();
  await a.getByText(/^Approved the post by Eddie Editor/).waitFor();
  await a.getByText("Nothing waiting for approval").waitFor();

  await b.reload();
  const targets = b.getByRole("list", { name: "Accounts and their state" });
  await targets.getByText(/^Published /).waitFor({ timeout: 120_000 });
  const link = await targets.getByRole("link", { name: "View on X" }).getAttribute("href");
  assert.match(link, new RegExp(`^https://x\\.com/${account}/status/\\w+$`));
  // The account published the new words: it has no text of its own left over from the first.
  await b.getByText("Fresh bread at Olga's bakery, 7–13h!", { exact: true }).waitFor();
  assert.equal(await targets.getByText(/^Own text:/).count(), 0, "the account kept the old text");

  // The last owner's refused step down is a named 409; signed-out first loads refresh with 401.
  const unexpected = report.problems.filter(
    (p) =>
      !(p.startsWith("409 PATCH") && p.includes(`/workspaces/${workspace}/members/`)),
  );
  assert.deepEqual(unexpected, [], "console errors or CSP violations");
  console.log(JSON.stringify({ ok: true, ...report }));
} catch (error) {
  for (const [who, ctx] of [["owner", owner], ["editor", editor]])
    await ctx.context.pages()[0]?.screenshot({ path: join(shots, `approvals-failed-${who}.png`), fullPage: true }).catch(() => {});
  console.log(JSON.stringify({ ok: false, error: String(error?.stack ?? error), ...report }));
  process.exitCode = 1;
} finally {
  await owner.close();
  await editor.close();
}
