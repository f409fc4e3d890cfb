import { describe, expect, it } from "vitest";
import type { Schemas } from "@/lib/api/client";
import { editDraft, newTarget, stateOfPost, toDraft, toPatch, type ComposerState } from "./draft";
import { defaultOptions } from "./options";

describe("the draft the composer sends", () => {
  const base: ComposerState = { text: "Hello", mediaIds: ["m1"], targets: [], timing: "now", wall: "2026-11-01T10:00" };

  it("publishes now without a time, and sends a wall time without an offset when scheduled", () => {
    const x = newTarget("a1", "x");
    expect(toDraft("w", { ...base, targets: [x] })).toEqual({
      workspace_id: "w",
      draft: false,
      text: "Hello",
      media_ids: ["m1"],
      targets: [{ account_id: "a1", options: { platform: "x", reply_settings: null, thread: [] } }],
    });
    expect(toDraft("w", { ...base, targets: [x], timing: "later" }).scheduled_at).toBe("2026-11-01T10:00:00");
  });

  it("sends an account's own text and its typed options, tagged with the platform", () => {
    const x = { ...newTarget("a1", "x"), text: "Short", options: { platform: "x" as const, thread: ["second"] } };
    const tt = { ...newTarget("a2", "tiktok") };
    tt.options = { ...defaultOptions("tiktok"), platform: "tiktok", privacy_level: "SELF_ONLY", disable_duet: true } as typeof tt.options;
    const [sentX, sentTt] = toDraft("w", { ...base, targets: [x, tt] }).targets;
    expect(sentX).toEqual({ account_id: "a1", text: "Short", options: { platform: "x", thread: ["second"] } });
    expect(sentTt?.options).toMatchObject({ platform: "tiktok", privacy_level: "SELF_ONLY", disable_duet: true });
  });

  it("leaves TikTok's privacy out until it is chosen, so the server names it", () => {
    const [sent] = toDraft("w", { ...base, targets: [newTarget("a2", "tiktok")] }).targets;
    expect(sent?.options).not.toHaveProperty("privacy_level");
    expect(sent?.options?.platform).toBe("tiktok");
  });
});

type Post = Schemas["PostOut"];
type Target = Schemas["TargetOut"];
const target = (over: Partial<Target>): Target => ({
  id: "t",
  account_id: "a1",
  platform: "x",
  comment_status: null,
  comment_id: null,
  comment_error: null,
  status: "scheduled",
  text: "Hello",
  media_ids: [],
  options: { platform: "x", reply_settings: null, thread: ["more"] },
  platform_post_id: null,
  url: null,
  error: null,
  attempts: 0,
  retry_at: null,
  published_at: null,
  ...over,
});
const post: Post = {
  id: "p",
  workspace_id: "w",
  status: "scheduled",
  text: "Hello",
  media_ids: ["m1"],
  scheduled_at: "2030-01-01T09:00:00Z",
  timezone: "Europe/Paris",
  author_id: "u",
  approval: "not_required",
  rejection_reason: null,
  created_at: "2029-12-31T09:00:00Z",
  targets: [
    target({}),
    target({ id: "t2", account_id: "a2", platform: "linkedin", text: "Own", options: { platform: "linkedin", visibility: "CONNECTIONS" } }),
    target({ id: "t3", account_id: "a3", status: "cancelled" }),
  ],
};
const NOW = new Date("2029-12-31T10:00:00Z");

describe("editing a post with the composer", () => {
  it("starts from the post's open accounts, their own text and their options", () => {
    const state = stateOfPost(post);
    expect(state.text).toBe("Hello");
    expect(state.mediaIds).toEqual(["m1"]);
    expect(state.targets).toEqual([
      { accountId: "a1", text: null, options: { platform: "x", reply_settings: null, thread: ["more"] } },
      { accountId: "a2", text: "Own", options: { platform: "linkedin", visibility: "CONNECTIONS" } },
    ]);
  });

  it("sends the accounts, media, options and text, keeping a time that is ahead", () => {
    const state: ComposerState = { ...stateOfPost(post), timing: "now", wall: "" };
    state.targets = [{ ...state.targets[1]!, options: { platform: "linkedin", visibility: "PUBLIC" } }];
    expect(toPatch(post, state, NOW)).toEqual({
      text: "Hello",
      media_ids: ["m1"],
      targets: [{ account_id: "a2", text: "Own", options: { platform: "linkedin", visibility: "PUBLIC" } }],
    });
    expect(editDraft(post, state, NOW)).toMatchObject({ workspace_id: "w", scheduled_at: post.scheduled_at, timezone: "Europe/Paris" });
  });

  it("asks for as soon as it may when the post's time has passed", () => {
    const state: ComposerState = { ...stateOfPost(post), timing: "now", wall: "" };
    const late = new Date("2030-01-01T09:30:00Z");
    expect(toPatch(post, state, late).scheduled_at).toBeNull();
    expect(editDraft(post, state, late)).not.toHaveProperty("scheduled_at");
  });

  it("saves a draft with its time, or with none", () => {
    const base: ComposerState = { text: "Hello", mediaIds: ["m1"], targets: [], timing: "now", wall: "2026-11-01T10:00" };
    const x = newTarget("a1", "x");
    const later = toDraft("w", { ...base, targets: [x], timing: "later" }, true);
    expect([later.draft, later.scheduled_at]).toEqual([true, "2026-11-01T10:00:00"]);
    const untimed = toDraft("w", { ...base, targets: [x] }, true);
    expect([untimed.draft, "scheduled_at" in untimed]).toEqual([true, false]);
  });
});
