/** Each platform's options as the API types them: one schema per platform, told apart by
 * `platform` (the OpenAPI document's discriminated `oneOf`). The composer holds a complete
 * object of the account's platform from the start (its defaults), so every form field reads a
 * typed value. */
import type { PlatformName } from "@/config/env";
import type { Schemas } from "@/lib/api/client";

export type TargetOptions = Schemas["TargetOut"]["options"];
export type OptionsOf<P extends PlatformName> = Extract<TargetOptions, { platform: P }>;

type TikTok = OptionsOf<"tiktok">;
/** TikTok's privacy has no default (the creator chooses it each time): until chosen it is "". */
export type TikTokDraft = Omit<TikTok, "privacy_level"> & { privacy_level: TikTok["privacy_level"] | "" };

/** What the form holds: a platform's options, TikTok's privacy possibly not chosen yet. */
export type OptionsDraft = Exclude<TargetOptions, { platform: "tiktok" }> | TikTokDraft;

export function defaultOptions(platform: PlatformName): OptionsDraft {
  switch (platform) {
    case "x":
      return { platform, reply_settings: null, thread: [] };
    case "tiktok":
      return {
        platform,
        privacy_level: "",
        disable_comment: false,
        disable_duet: false,
        disable_stitch: false,
        brand_content_toggle: false,
        brand_organic_toggle: false,
        video_cover_timestamp_ms: null,
      };
    case "instagram":
      return { platform, media_type: null };
    case "facebook":
      return { platform, link: null };
    case "linkedin":
      return { platform, visibility: "PUBLIC" };
    case "youtube":
      return { platform, title: "", privacy_status: "public", category_id: "22", made_for_kids: false, tags: [] };
  }
}

/** A stored target's options (the API's answer) as the form holds them. */
export function optionsDraft(options: TargetOptions): OptionsDraft {
  return { ...defaultOptions(options.platform), ...options } as OptionsDraft;
}

/** The options sent: typed, with `platform`. TikTok's privacy not chosen yet is left out, so the
 * server names it next to the account (`Option privacy_level: Field required.`) as it would for
 * any client; it is the one value the types cannot hold, hence the one cast. */
export function wireOptions(draft: OptionsDraft): TargetOptions {
  if (draft.platform === "tiktok" && draft.privacy_level === "") {
    const rest: Partial<TikTokDraft> = { ...draft };
    delete rest.privacy_level;
    return rest as unknown as TargetOptions;
  }
  if (draft.platform === "facebook" && !draft.link) {
    const rest: Partial<OptionsOf<"facebook">> = { ...draft };
    delete rest.link;
    draft = rest as OptionsOf<"facebook">;
  }
  if ("first_comment" in draft && !draft.first_comment?.trim()) {
    // An empty field asks for no comment (the API takes none or a non-empty one).
    const rest: Record<string, unknown> = { ...draft };
    delete rest.first_comment;
    return rest as TargetOptions;
  }
  return draft as TargetOptions;
}

/** The platforms whose APIs take a comment on one's own post, and the longest each takes
 * (characters as the server counts them: code points). */
export const FIRST_COMMENT_LIMITS: Partial<Record<PlatformName, number>> = {
  facebook: 8000,
  instagram: 2200,
  linkedin: 1250,
  youtube: 10000,
};

export function firstCommentLength(text: string): number {
  return [...text].length;
}
