/** The PATCH that changes a post's text, and what the page says about it. */
import type { Schemas } from "@/lib/api/client";

type Post = Schemas["PostOut"];
type PostPatch = Schemas["PostPatch"];

const OPEN = new Set(["scheduled", "waiting"]);

/**
 * A new text for the post. The server stores each account's text resolved (the post's text
 * copied when the account had none of its own) and keeps the open targets as they are when a
 * PATCH names no targets, so a text alone would leave every account publishing the old words.
 * The targets go along: an account whose text was the post's follows the new text (its text
 * left out), one with its own text keeps it; media and options stay.
 *
 * A post whose time has passed (it waited for approval, say) is sent with `scheduled_at: null`:
 * as soon as it may go (at once, or when approved), since the server refuses a past time.
 */
export function textEdit(post: Post, text: string, now: Date = new Date()): PostPatch {
  const targets = post.targets
    .filter((t) => OPEN.has(t.status))
    .map((t) => {
      const ownText = t.text !== post.text;
      const ownMedia =
        t.media_ids.length !== post.media_ids.length ||
        t.media_ids.some((id, i) => id !== post.media_ids[i]);
      return {
        account_id: t.account_id,
        ...(ownText ? { text: t.text } : {}),
        ...(ownMedia ? { media_ids: t.media_ids } : {}),
        options: t.options,
      };
    });
  const patch: PostPatch = { text, targets: targets.length > 0 ? targets : null };
  if (new Date(post.scheduled_at).getTime() <= now.getTime()) patch.scheduled_at = null;
  return patch;
}

/** Whether the page offers to edit the text: nothing has started, nothing was cancelled. */
export function textEditable(post: Post): boolean {
  return post.status !== "cancelled" && post.targets.some((t) => OPEN.has(t.status)) &&
    post.targets.every((t) => OPEN.has(t.status) || t.status === "cancelled");
}
