import { describe, expect, it } from "vitest";
import { newTarget, toDraft, type ComposerState } from "./draft";

describe("the draft the composer sends", () => {
  const base: ComposerState = { text: "Hello", mediaIds: ["m1"], targets: [], timing: "now", wall: "2026-11-01T10:00" };

  it("publishes now without a time, and sends a wall time without an offset when scheduled", () => {
    const x = newTarget("a1", "x");
    expect(toDraft("w", { ...base, targets: [x] })).toEqual({
      workspace_id: "w",
      draft: false,
      text: "Hello",
      media_ids: ["m1"],
      targets: [{ account_id: "a1", options: {} }],
    });
    expect(toDraft("w", { ...base, targets: [x], timing: "later" }).scheduled_at).toBe("2026-11-01T10:00:00");
  });

  it("saves a draft with its time, or with none", () => {
    const x = newTarget("a1", "x");
    const later = toDraft("w", { ...base, targets: [x], timing: "later" }, true);
    expect([later.draft, later.scheduled_at]).toEqual([true, "2026-11-01T10:00:00"]);
    const untimed = toDraft("w", { ...base, targets: [x] }, true);
    expect([untimed.draft, "scheduled_at" in untimed]).toEqual([true, false]);
  });

  it("sends an account's own text and its options, leaving out the unset ones", () => {
    const x = { ...newTarget("a1", "x"), text: "Short", thread: ["second"], options: { reply_settings: "" } };
    const tt = { ...newTarget("a2", "tiktok"), options: { privacy_level: "SELF_ONLY", disable_duet: true, disable_stitch: false } };
    expect(toDraft("w", { ...base, targets: [x, tt] }).targets).toEqual([
      { account_id: "a1", text: "Short", options: { thread: ["second"] } },
      { account_id: "a2", options: { privacy_level: "SELF_ONLY", disable_duet: true } },
    ]);
  });
});
