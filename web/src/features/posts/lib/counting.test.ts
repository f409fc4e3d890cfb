import { describe, expect, it } from "vitest";
import { countFor, xUrls, xWeightedLength } from "./counting";

describe("X's weighted length", () => {
  it("counts Latin text one per character", () => {
    expect(xWeightedLength("Hello, world")).toBe(12);
    expect(xWeightedLength("é")).toBe(1);
    expect(xWeightedLength("e\u0301")).toBe(1); // NFC first: one code point
  });

  it("counts CJK two per character", () => {
    expect(xWeightedLength("日本語")).toBe(6);
    expect(xWeightedLength("안녕")).toBe(4);
  });

  it("counts general punctuation as X's ranges say (the same numbers as the server's)", () => {
    expect(xWeightedLength("—“”…")).toBe(5); // the ellipsis is outside the light ranges
    expect(xWeightedLength("€")).toBe(2);
  });

  it("counts an emoji two, even a sequence or a flag", () => {
    expect(xWeightedLength("😀")).toBe(2);
    expect(xWeightedLength("👨‍👩‍👧‍👦")).toBe(2);
    expect(xWeightedLength("🇫🇷")).toBe(2);
    expect(xWeightedLength("👍🏽")).toBe(2);
    expect(xWeightedLength("a😀b")).toBe(4);
  });

  it("counts every URL as 23, whatever its length", () => {
    const long = "https://example.com/" + "a".repeat(200);
    expect(xWeightedLength(long)).toBe(23);
    expect(xWeightedLength(`see ${long} now`)).toBe(4 + 23 + 4);
    expect(xWeightedLength("go to example.com.")).toBe(6 + 23 + 1);
    expect(xWeightedLength("http://a.co")).toBe(23);
    expect(xWeightedLength("(https://example.com)")).toBe(25);
  });

  it("finds URLs with a scheme or a known top-level domain only", () => {
    expect(xUrls("a www.example.org/x b").map((u) => u.url)).toEqual(["www.example.org/x"]);
    expect(xUrls("file.txt and me@example.com")).toEqual([]);
    expect(xUrls("(https://example.com)").map((u) => u.url)).toEqual(["https://example.com"]);
  });

  it("agrees with the server at the limit", () => {
    expect(countFor("x", "a".repeat(280))).toEqual({ used: 280, limit: 280, unit: "characters", over: false });
    expect(countFor("x", "a".repeat(281)).over).toBe(true);
    expect(countFor("x", "日".repeat(141)).over).toBe(true);
  });
});

describe("other platforms", () => {
  it("count UTF-16 code units (an emoji is 2)", () => {
    expect(countFor("instagram", "😀").used).toBe(2);
    expect(countFor("linkedin", "héllo").used).toBe(5);
    expect(countFor("tiktok", "a".repeat(2201))).toMatchObject({ limit: 2200, over: true });
  });

  it("YouTube counts the description's bytes", () => {
    expect(countFor("youtube", "é")).toMatchObject({ used: 2, unit: "bytes", limit: 5000 });
  });
});
