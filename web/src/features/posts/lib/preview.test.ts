import { describe, expect, it } from "vitest";
import { FOLDS, coverMaxMs, foldText, frameOf, linkHost } from "./preview";

describe("where a platform folds a text", () => {
  it("keeps a short text whole", () => {
    expect(foldText("Short and sweet\n", FOLDS.instagram!)).toEqual({ shown: "Short and sweet", folded: false });
  });

  it("folds Instagram's caption at 125 characters, at the end of a word", () => {
    const words = "word ".repeat(40); // 200 characters
    const { shown, folded } = foldText(words, FOLDS.instagram!);
    expect(folded).toBe(true);
    expect(shown.length).toBeLessThanOrEqual(125);
    expect(shown.endsWith("word")).toBe(true);
  });

  it("folds after the platform's number of lines", () => {
    expect(foldText("one\ntwo\nthree\nfour", FOLDS.linkedin!)).toEqual({ shown: "one\ntwo\nthree", folded: true });
    expect(foldText("one\ntwo\nthree", FOLDS.linkedin!)).toEqual({ shown: "one\ntwo\nthree", folded: false });
    expect(foldText("one\ntwo\nthree", FOLDS.instagram!).shown).toBe("one\ntwo");
  });

  it("never cuts an emoji in two, and cuts a word-less text at the limit", () => {
    const family = "👨‍👩‍👧";
    const text = "a".repeat(124) + family + "b";
    expect(foldText(text, FOLDS.instagram!).shown).toBe("a".repeat(124) + family);
    expect(foldText("x".repeat(300), FOLDS.linkedin!).shown).toBe("x".repeat(210));
  });
});

describe("how media is framed", () => {
  it("is square in Instagram's feed, vertical for reels, stories, TikTok; wide on YouTube", () => {
    expect(frameOf("instagram", null, false)).toBe("square");
    expect(frameOf("instagram", "CAROUSEL", true)).toBe("square");
    expect(frameOf("instagram", null, true)).toBe("vertical");
    expect(frameOf("instagram", "STORIES", false)).toBe("vertical");
    expect(frameOf("tiktok", null, true)).toBe("vertical");
    expect(frameOf("youtube", null, true)).toBe("wide");
    expect(frameOf("x", null, false)).toBe("natural");
  });
});

describe("small facts", () => {
  it("names a link's host, and nothing for what is not a web address", () => {
    expect(linkHost("https://www.example.com/a?b")).toBe("example.com");
    expect(linkHost("javascript:alert(1)")).toBe("");
    expect(linkHost("not a url")).toBe("");
  });

  it("bounds the cover frame by the video's length", () => {
    expect(coverMaxMs(4.25)).toBe(4250);
    expect(coverMaxMs(null)).toBeNull();
  });
});
