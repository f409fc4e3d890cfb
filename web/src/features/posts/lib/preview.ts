/** What the previews need to know of how each platform shows a post: where its app folds a
 * long text behind "more", how it frames media, and the cover frame's range. The fold points are
 * what the apps show on a phone (they move a little with the screen's width): Instagram's caption
 * folds after about 125 characters or its 2nd line, LinkedIn's post after about 210 characters
 * or its 3rd line ("…see more"), Facebook's after about 480 or its 5th, TikTok's caption over the
 * video after its 2nd line (about 100 characters), YouTube's description under the video after
 * about 160 characters or its 3rd line. */
import type { PlatformName } from "@/config/env";

export type Fold = { chars: number; lines: number; more: string };

export const FOLDS: Partial<Record<PlatformName, Fold>> = {
  instagram: { chars: 125, lines: 2, more: "more" },
  linkedin: { chars: 210, lines: 3, more: "see more" },
  facebook: { chars: 480, lines: 5, more: "See more" },
  tiktok: { chars: 100, lines: 2, more: "more" },
  youtube: { chars: 160, lines: 3, more: "more" },
};

export type Folded = { shown: string; folded: boolean };

function graphemes(text: string): string[] {
  if (typeof Intl !== "undefined" && "Segmenter" in Intl) {
    return Array.from(new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(text), (s) => s.segment);
  }
  return Array.from(text);
}

/** The part of `text` shown before the fold: at most `fold.lines` lines and `fold.chars`
 * characters (graphemes: an emoji is never cut in two), ending at a word when one ends in the
 * last fifth; `folded` when anything is hidden. */
export function foldText(text: string, fold: Pick<Fold, "chars" | "lines">): Folded {
  const trimmed = text.replace(/\s+$/u, "");
  const lines = trimmed.split("\n");
  let shown = lines.slice(0, fold.lines).join("\n");
  let folded = lines.length > fold.lines;
  const chars = graphemes(shown);
  if (chars.length > fold.chars) {
    const cut = chars.slice(0, fold.chars).join("");
    const space = cut.search(/\s\S*$/u);
    shown = space >= Math.floor(cut.length * 0.8) ? cut.slice(0, space) : cut;
    folded = true;
  }
  return { shown: folded ? shown.replace(/\s+$/u, "") : shown, folded };
}

export type Frame = "square" | "portrait" | "vertical" | "wide" | "natural";

/** How a platform frames a post's media: Instagram's feed square (4:5 at most), its reels and
 * stories and TikTok full-screen 9:16, YouTube's player 16:9, the others at the media's own
 * shape. */
export function frameOf(platform: PlatformName, instagramType: string | null | undefined, video: boolean): Frame {
  switch (platform) {
    case "tiktok":
      return "vertical";
    case "youtube":
      return "wide";
    case "instagram":
      if (instagramType === "REELS" || instagramType === "STORIES" || (!instagramType && video)) return "vertical";
      return "square";
    default:
      return "natural";
  }
}

/** The host a Facebook link card names ("" for what is no http(s) address). */
export function linkHost(link: string | null | undefined): string {
  if (!link) return "";
  try {
    const url = new URL(link);
    return url.protocol === "http:" || url.protocol === "https:" ? url.hostname.replace(/^www\./, "") : "";
  } catch {
    return "";
  }
}

/** The last millisecond a cover frame may be at (the server refuses one after the end). */
export function coverMaxMs(durationS: number | null): number | null {
  return durationS && durationS > 0 ? Math.floor(durationS * 1000) : null;
}

export function coverLabel(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** YouTube's title as the video shows it: the title option, else nothing yet. */
export function youtubeTitle(title: string | undefined): string {
  return title?.trim() || "(add a title)";
}
