/** The composer's state and what it sends: a new post (`PostIn`) or an edit of one
 * (`PostPatch`): one text for every account, with per-account text and typed platform options
 * where the user set them. */
import type { PlatformName } from "@/config/env";
import type { Schemas } from "@/lib/api/client";
import { defaultOptions, optionsDraft, wireOptions, type OptionsDraft } from "./options";
import { wallTimeParam } from "./zoned";

export type TargetDraft = {
  accountId: string;
  /** Own text for this account (null: the post's). */
  text: string | null;
  /** The account's platform's options (`options.platform` is the account's platform). */
  options: OptionsDraft;
};

export type ComposerState = {
  text: string;
  mediaIds: string[];
  targets: TargetDraft[];
  timing: "now" | "later";
  wall: string;
};

export function newTarget(accountId: string, platform: PlatformName): TargetDraft {
  return { accountId, text: null, options: defaultOptions(platform) };
}

export function platformOf(target: TargetDraft): PlatformName {
  return target.options.platform;
}

function targetsIn(state: ComposerState): Schemas["TargetIn"][] {
  return state.targets.map((t) => ({
    account_id: t.accountId,
    ...(t.text !== null ? { text: t.text } : {}),
    options: wireOptions(t.options),
  }));
}

/** The post as the composer sends it; `asDraft`: saved as a draft (never published; the time,
 * if one is chosen, is kept but not checked). */
export function toDraft(workspaceId: string, state: ComposerState, asDraft = false): Schemas["PostIn"] {
  return {
    workspace_id: workspaceId,
    draft: asDraft,
    text: state.text,
    media_ids: state.mediaIds,
    targets: targetsIn(state),
    ...(state.timing === "later" && state.wall ? { scheduled_at: wallTimeParam(state.wall) } : {}),
  };
}

/** The text a target publishes. */
export function textOf(state: ComposerState, target: TargetDraft): string {
  return target.text ?? state.text;
}

type Post = Schemas["PostOut"];
const OPEN = new Set(["scheduled", "waiting"]);

/** The composer's state for editing a post: its text, media and the accounts that have not
 * started (a target whose text is the post's follows the post's text). */
export function stateOfPost(post: Post): Omit<ComposerState, "timing" | "wall"> {
  return {
    text: post.text,
    mediaIds: post.media_ids,
    targets: post.targets
      .filter((t) => OPEN.has(t.status))
      .map((t) => ({
        accountId: t.account_id,
        text: t.text !== post.text ? t.text : null,
        options: optionsDraft(t.options),
      })),
  };
}

/** The post's time as the edit keeps it: its instant while it is ahead; a time that has passed
 * (it waited for approval, say) is "as soon as it may" (`null`), since a past time is refused. */
export function keptTime(post: Post, now: Date = new Date()): string | null {
  if (post.scheduled_at === null) return null; // a draft without a time
  return new Date(post.scheduled_at).getTime() > now.getTime() ? post.scheduled_at : null;
}

/** The PATCH for an edit of accounts, media, options and text; the time is kept. */
export function toPatch(post: Post, state: ComposerState, now: Date = new Date()): Schemas["PostPatch"] {
  const when = keptTime(post, now);
  return {
    text: state.text,
    media_ids: state.mediaIds,
    targets: targetsIn(state),
    ...(when === null ? { scheduled_at: null } : {}),
  };
}

/** What `POST /posts/validate` is asked while editing: the edit as a new post at its time. */
export function editDraft(post: Post, state: ComposerState, now: Date = new Date()): Schemas["PostIn"] {
  const when = keptTime(post, now);
  return {
    workspace_id: post.workspace_id,
    draft: false,
    text: state.text,
    media_ids: state.mediaIds,
    targets: targetsIn(state),
    timezone: post.timezone,
    ...(when !== null ? { scheduled_at: when } : {}),
  };
}
