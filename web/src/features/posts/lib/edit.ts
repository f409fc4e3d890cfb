/** The PATCH that changes a post's text, and what the page says about it. */
import type { Schemas } from "@/lib/api/client";

type Post = Schemas["PostOut"];
type PostPatch = Schemas["PostPatch"];

const OPEN = new Set(["draft", "scheduled", "waiting"]);

/**
 * A new text for the post: the text alone. An account without a text of its own follows the
 * post's text (the server fills it in when it reads the post), one with its own text keeps it;
 * media and options stay as they are.
 *
 * A post whose time has passed (it waited for approval, say) is sent with `scheduled_at: null`:
 * as soon as it may go (at once, or when approved), since the server refuses a past time.
 */
export function textEdit(post: Post, text: string, now: Date = new Date()): PostPatch {
  const patch: PostPatch = { text };
  // A draft keeps its time, past or not (it is checked only when the draft is scheduled).
  if (post.status !== "draft" && post.scheduled_at !== null && new Date(post.scheduled_at).getTime() <= now.getTime())
    patch.scheduled_at = null;
  return patch;
}

/** Whether the page offers to edit the text: nothing has started, nothing was cancelled. */
export function textEditable(post: Post): boolean {
  return post.status !== "cancelled" && post.targets.some((t) => OPEN.has(t.status)) &&
    post.targets.every((t) => OPEN.has(t.status) || t.status === "cancelled");
}
