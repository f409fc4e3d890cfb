import { describe, expect, it } from "vitest";
import type { Schemas } from "@/lib/api/client";
import { textEdit, textEditable } from "./edit";

type Post = Schemas["PostOut"];
type Target = Schemas["TargetOut"];

const target = (over: Partial<Target>): Target => ({
  id: "t",
  account_id: "a1",
  platform: "x",
  status: "scheduled",
  text: "old words",
  media_ids: [],
  options: {},
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
  it("lets an account that used the post's text follow the new one", () => {
    const patch = textEdit(post({}), "new words", NOW);
    expect(patch).toEqual({
      text: "new words",
      targets: [{ account_id: "a1", options: {} }],
    });
  });

  it("keeps an account's own text, media and options", () => {
    const p = post({
      media_ids: ["m1"],
      targets: [
        target({ account_id: "a1", text: "just for X", options: { reply_settings: "following" }, media_ids: ["m1"] }),
        target({ account_id: "a2", platform: "linkedin", media_ids: ["m2"] }),
      ],
    });
    expect(textEdit(p, "new words", NOW).targets).toEqual([
      { account_id: "a1", text: "just for X", options: { reply_settings: "following" } },
      { account_id: "a2", media_ids: ["m2"], options: {} },
    ]);
  });

  it("leaves out the targets that were cancelled", () => {
    const p = post({
      targets: [target({ account_id: "a1" }), target({ account_id: "a2", status: "cancelled" })],
    });
    expect(textEdit(p, "x", NOW).targets?.map((t) => t.account_id)).toEqual(["a1"]);
  });

  it("asks for as soon as possible when the post's time has passed", () => {
    expect(textEdit(post({}), "x", NOW)).not.toHaveProperty("scheduled_at");
    expect(textEdit(post({ scheduled_at: "2029-12-31T09:59:00Z" }), "x", NOW).scheduled_at).toBeNull();
  });
});

describe("textEditable", () => {
  it("is offered until publishing starts", () => {
    expect(textEditable(post({}))).toBe(true);
    expect(textEditable(post({ status: "publishing", targets: [target({ status: "publishing" })] }))).toBe(false);
    expect(textEditable(post({ status: "cancelled", targets: [target({ status: "cancelled" })] }))).toBe(false);
  });
});
