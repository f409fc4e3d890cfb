import { describe, expect, it } from "vitest";
import type { Schemas } from "@/lib/api/client";
import { textEdit, textEditable } from "./edit";

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
  text: "old words",
  media_ids: [],
  options: { platform: "x", reply_settings: null, thread: [] },
  platform_post_id: null,
  url: null,
  error: null,
  attempts: 0,
  retry_at: null,
  published_at: null,
  ...over,
});

const post = (over: Partial<Post>): Post =>
  ({
    id: "p",
    workspace_id: "w",
    status: "rejected",
    text: "old words",
    media_ids: [],
    scheduled_at: "2030-01-01T09:00:00Z",
    timezone: "Europe/Paris",
    author_id: "u",
    approval: "rejected",
    rejection_reason: "Say it kindly",
    created_at: "2029-12-31T09:00:00Z",
    targets: [target({})],
    ...over,
  }) as Post;

const NOW = new Date("2029-12-31T10:00:00Z");

describe("textEdit", () => {
  it("sends the text alone while the post's time is ahead", () => {
    expect(textEdit(post({}), "new words", NOW)).toEqual({ text: "new words" });
  });

  it("asks for as soon as possible when the post's time has passed", () => {
    expect(textEdit(post({ scheduled_at: "2029-12-31T09:59:00Z" }), "x", NOW)).toEqual({
      text: "x",
      scheduled_at: null,
    });
  });

  it("keeps a draft's time, past or not, and a draft without one", () => {
    const draft = { status: "draft", approval: "not_required", targets: [target({ status: "draft" })] };
    expect(textEdit(post({ ...draft, scheduled_at: "2029-12-31T09:59:00Z" }), "x", NOW)).toEqual({ text: "x" });
    expect(textEdit(post({ ...draft, scheduled_at: null }), "x", NOW)).toEqual({ text: "x" });
  });
});

describe("textEditable", () => {
  it("is offered until publishing starts", () => {
    expect(textEditable(post({}))).toBe(true);
    expect(textEditable(post({ status: "draft", targets: [target({ status: "draft" })] }))).toBe(true);
    expect(textEditable(post({ status: "publishing", targets: [target({ status: "publishing" })] }))).toBe(false);
    expect(textEditable(post({ status: "cancelled", targets: [target({ status: "cancelled" })] }))).toBe(false);
  });
});
