/**
 * Text counted as each platform counts it, the same way the publisher checks it
 * (services/publisher/src/publisher/posts/rules.py), so the composer's numbers agree with the
 * server's verdict:
 *
 * - X: the weighted length of X's counting rules (twitter-text config v3, as X documents it):
 *   text in NFC; code points in the Latin-1 to Hangul Jamo range (U+0000–U+10FF) and a few
 *   punctuation ranges weigh 1, everything else (CJK, most emoji code points) 2; an emoji
 *   (one grapheme, even a ZWJ sequence or a flag) weighs 2 in all; every URL weighs 23
 *   whatever its length. The npm `twitter-text` package implements this but has had no release
 *   since 2020 and pulls core-js 2, so the rules are restated here and tested against X's own
 *   conformance examples.
 * - Facebook, Instagram, TikTok, LinkedIn: UTF-16 code units (an emoji is 2), as their APIs
 *   count and the server checks.
 * - YouTube: the description's UTF-8 bytes (the limit is 5,000 bytes).
 *
 * The server's verdict (POST /posts/validate) stays the authority; this is the live preview.
 */
import type { PlatformName } from "@/config/env";

export const X_URL_WEIGHT = 23;

const X_LIGHT_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x0000, 0x10ff],
  [0x2000, 0x200d],
  [0x2010, 0x201f],
  [0x2032, 0x2037],
];

// A URL as X's parser finds one: with a scheme, or a bare host whose last label is a
// top-level domain it knows (a short list of the common ones; the server knows them all).
const TLDS =
  "com|org|net|edu|gov|io|co|ai|app|dev|me|ly|info|biz|tv|fm|us|uk|fr|de|es|it|nl|be|ch|at|se|no|dk|fi|pl|pt|ie|ca|au|nz|jp|cn|kr|in|br|mx|ru|eu|xyz|online|site|shop|blog|news|page";
const URL_PATTERN = new RegExp(
  String.raw`(?<![\w@.\/-])(?:https?:\/\/[^\s<>"]+|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:${TLDS})(?![a-z0-9-])(?::\d{1,5})?(?:\/[^\s<>"]*)?)`,
  "giu",
);
// Punctuation that ends a sentence is not part of the URL before it.
const TRAILING = /[.,;:!?'")\]}]+$/u;

const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u;

const segmenter =
  typeof Intl !== "undefined" && "Segmenter" in Intl
    ? new Intl.Segmenter(undefined, { granularity: "grapheme" })
    : null;

function graphemes(text: string): string[] {
  return segmenter ? Array.from(segmenter.segment(text), (s) => s.segment) : Array.from(text);
}

function codePointWeight(cp: number): number {
  return X_LIGHT_RANGES.some(([lo, hi]) => cp >= lo && cp <= hi) ? 1 : 2;
}

function plainWeight(text: string): number {
  let weight = 0;
  for (const grapheme of graphemes(text)) {
    if (EMOJI.test(grapheme)) {
      weight += 2;
      continue;
    }
    for (const ch of grapheme) weight += codePointWeight(ch.codePointAt(0) ?? 0);
  }
  return weight;
}

/** The URLs X would find in the text, with where they are. */
export function xUrls(text: string): Array<{ url: string; index: number }> {
  const found: Array<{ url: string; index: number }> = [];
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = match[0].replace(TRAILING, "");
    if (url) found.push({ url, index: match.index ?? 0 });
  }
  return found;
}

/** X's weighted length: what X compares with its 280. */
export function xWeightedLength(input: string): number {
  const text = input.normalize("NFC");
  let weight = 0;
  let at = 0;
  for (const { url, index } of xUrls(text)) {
    weight += plainWeight(text.slice(at, index)) + X_URL_WEIGHT;
    at = index + url.length;
  }
  return weight + plainWeight(text.slice(at));
}

export function utf16Length(text: string): number {
  return text.length;
}

export function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

export type Count = { used: number; limit: number; unit: "characters" | "bytes"; over: boolean };

export const TEXT_LIMITS: Record<PlatformName, { limit: number; unit: Count["unit"] }> = {
  x: { limit: 280, unit: "characters" },
  linkedin: { limit: 3000, unit: "characters" },
  facebook: { limit: 63206, unit: "characters" },
  instagram: { limit: 2200, unit: "characters" },
  tiktok: { limit: 2200, unit: "characters" },
  youtube: { limit: 5000, unit: "bytes" },
};

/** The text's length as the platform counts it, against the platform's limit. */
export function countFor(platform: PlatformName, text: string): Count {
  const { limit, unit } = TEXT_LIMITS[platform];
  const used =
    platform === "x" ? xWeightedLength(text) : platform === "youtube" ? utf8Bytes(text) : utf16Length(text);
  return { used, limit, unit, over: used > limit };
}
