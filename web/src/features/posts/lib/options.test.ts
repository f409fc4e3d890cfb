import { describe, expect, it } from "vitest";
import { FIRST_COMMENT_LIMITS, firstCommentLength, wireOptions } from "./options";

describe("the options sent", () => {
  it("keeps a first comment and leaves an empty one out", () => {
    const facebook = { platform: "facebook" as const, link: null, first_comment: "Link in the comments" };
    expect(wireOptions(facebook)).toEqual({ platform: "facebook", first_comment: "Link in the comments" });
    expect(wireOptions({ ...facebook, first_comment: "  " })).toEqual({ platform: "facebook" });
    const linkedin = { platform: "linkedin" as const, visibility: "PUBLIC" as const, first_comment: "" };
    expect(wireOptions(linkedin)).toEqual({ platform: "linkedin", visibility: "PUBLIC" });
  });

  it("keeps a Facebook link beside the comment", () => {
    const facebook = { platform: "facebook" as const, link: "https://example.com", first_comment: "hi" };
    expect(wireOptions(facebook)).toEqual(facebook);
  });
});

describe("first comment limits", () => {
  it("are the four platforms that take one, counted in code points as the server counts", () => {
    expect(Object.keys(FIRST_COMMENT_LIMITS).sort()).toEqual(["facebook", "instagram", "linkedin", "youtube"]);
    expect(firstCommentLength("😀é")).toBe(2);
  });
});
