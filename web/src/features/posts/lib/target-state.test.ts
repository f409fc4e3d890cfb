import { describe, expect, it } from "vitest";
import { commentState, targetState } from "./target-state";

const post = { approval: "not_required", scheduled_at: "2026-11-01T09:00:00Z", rejection_reason: null };
const target = { status: "scheduled", error: null, retry_at: null, published_at: null };
const zone = "Europe/Paris";

describe("a target's state in words", () => {
  it("says when it is scheduled, in the workspace's zone", () => {
    expect(targetState(target, post, zone).label).toBe("Scheduled for Sun 1 Nov 2026, 10:00 (Europe/Paris)");
  });

  it("says a draft is not published, with its time or without one", () => {
    const draft = { ...target, status: "draft" };
    expect(targetState(draft, post, zone)).toMatchObject({
      label: "Draft for Sun 1 Nov 2026, 10:00 (Europe/Paris)",
      detail: "Not published until it is scheduled.",
    });
    expect(targetState(draft, { ...post, scheduled_at: null }, zone).label).toBe("Draft, no time yet");
  });

  it("says it waits for approval, or why it was rejected", () => {
    expect(targetState(target, { ...post, approval: "pending" }, zone).label).toBe("Waiting for approval");
    expect(
      targetState(target, { ...post, approval: "rejected", rejection_reason: "Off brand." }, zone),
    ).toMatchObject({ label: "Rejected", detail: "Off brand." });
  });

  it("tells a rate limit's end and an unknown outcome", () => {
    const waiting = { ...target, status: "waiting", retry_at: "2026-11-01T09:15:00Z", error: "X's limit" };
    expect(targetState(waiting, post, zone)).toMatchObject({
      label: "Waiting for a rate limit until Sun 1 Nov 2026, 10:15 (Europe/Paris)",
      detail: "X's limit",
    });
    expect(targetState({ ...target, status: "in_doubt" }, post, zone).label).toBe(
      "Outcome unknown — checking the platform",
    );
  });

  it("gives the platform's reason for a failure", () => {
    const failed = { ...target, status: "failed", error: "The grant was revoked. Reconnect it, then publish again." };
    expect(targetState(failed, post, zone)).toMatchObject({ label: "Failed", tone: "danger", detail: failed.error });
  });

  it("says when it was published", () => {
    const done = { ...target, status: "published", published_at: "2026-11-01T09:00:05Z" };
    expect(targetState(done, post, zone)).toMatchObject({ label: "Published Sun 1 Nov 2026, 10:00 (Europe/Paris)", tone: "success" });
  });
});

describe("a first comment's state in words", () => {
  const published = { status: "published", comment_error: null, error: null, retry_at: null, published_at: null };

  it("says nothing for a target that asks for no comment", () => {
    expect(commentState({ ...published, comment_status: null })).toBeNull();
  });

  it("tells pending, posted and an unknown outcome apart", () => {
    expect(commentState({ ...published, comment_status: "pending" })?.label).toBe(
      "First comment: posted once the post is published",
    );
    expect(commentState({ ...published, comment_status: "posted" })).toMatchObject({
      label: "First comment posted",
      tone: "success",
    });
    expect(commentState({ ...published, comment_status: "in_doubt" })).toMatchObject({
      label: "First comment: outcome unknown — checking the platform",
      tone: "warning",
    });
  });

  it("gives the platform's reason when it failed, while the post stays published", () => {
    const failed = {
      ...published,
      comment_status: "failed",
      comment_error: "Facebook refused it (too long).",
    };
    expect(commentState(failed)).toMatchObject({
      label: "First comment failed",
      tone: "danger",
      detail: "Facebook refused it (too long).",
    });
    expect(targetState(failed, { approval: "not_required", scheduled_at: null, rejection_reason: null }, "UTC").tone).toBe(
      "success",
    );
  });
});
