/** The composer's state and the draft it sends (`PostIn`): one text for every account, with
 * per-account text and platform options where the user set them. */
import type { PlatformName } from "@/config/env";
import type { Schemas } from "@/lib/api/client";
import { wallTimeParam } from "./zoned";

export type TargetDraft = {
  accountId: string;
  platform: PlatformName;
  /** Own text for this account (null: the post's). */
  text: string | null;
  options: Record<string, string | boolean>;
  /** X: replies posted under the first post. */
  thread: string[];
};

export type ComposerState = {
  text: string;
  mediaIds: string[];
  targets: TargetDraft[];
  timing: "now" | "later";
  wall: string;
};

export function newTarget(accountId: string, platform: PlatformName): TargetDraft {
  return { accountId, platform, text: null, options: {}, thread: [] };
}

function options(target: TargetDraft): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(target.options)) {
    if (value !== "" && value !== false) out[key] = value;
  }
  if (target.platform === "x" && target.thread.length > 0) out.thread = target.thread;
  return out;
}

/** The post as the composer sends it; `asDraft`: saved as a draft (never published; the time,
 * if one is chosen, is kept but not checked). */
export function toDraft(workspaceId: string, state: ComposerState, asDraft = false): Schemas["PostIn"] {
  return {
    workspace_id: workspaceId,
    draft: asDraft,
    text: state.text,
    media_ids: state.mediaIds,
    targets: state.targets.map((t) => ({
      account_id: t.accountId,
      ...(t.text !== null ? { text: t.text } : {}),
      options: options(t),
    })),
    ...(state.timing === "later" && state.wall ? { scheduled_at: wallTimeParam(state.wall) } : {}),
  };
}

/** The text a target publishes. */
export function textOf(state: ComposerState, target: TargetDraft): string {
  return target.text ?? state.text;
}
