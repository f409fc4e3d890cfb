/** A target's state in words, for the post page and the lists. */
import { formatInZone } from "./zoned";

export type Tone = "neutral" | "success" | "warning" | "danger";
export type StateWords = { label: string; tone: Tone; detail: string | null };

type TargetLike = {
  status: string;
  error: string | null;
  retry_at: string | null;
  published_at: string | null;
};
type PostLike = { approval: string; scheduled_at: string | null; rejection_reason: string | null };

export function targetState(target: TargetLike, post: PostLike, zone: string): StateWords {
  const at = (iso: string) => `${formatInZone(iso, zone)} (${zone})`;
  switch (target.status) {
    case "draft":
      return {
        label: post.scheduled_at ? `Draft for ${at(post.scheduled_at)}` : "Draft, no time yet",
        tone: "neutral",
        detail: "Not published until it is scheduled.",
      };
    case "scheduled":
      if (post.approval === "pending")
        return { label: "Waiting for approval", tone: "warning", detail: null };
      if (post.approval === "rejected")
        return { label: "Rejected", tone: "danger", detail: post.rejection_reason };
      return {
        label: post.scheduled_at ? `Scheduled for ${at(post.scheduled_at)}` : "Scheduled",
        tone: "neutral",
        detail: null,
      };
    case "publishing":
      return { label: "Publishing…", tone: "neutral", detail: target.error };
    case "in_doubt":
      return {
        label: "Outcome unknown — checking the platform",
        tone: "warning",
        detail: target.error,
      };
    case "waiting":
      return {
        label: target.retry_at
          ? `Waiting for a rate limit until ${at(target.retry_at)}`
          : "Waiting for a rate limit",
        tone: "warning",
        detail: target.error,
      };
    case "published":
      return {
        label: target.published_at ? `Published ${at(target.published_at)}` : "Published",
        tone: "success",
        detail: null,
      };
    case "failed":
      return {
        label: "Failed",
        tone: "danger",
        detail: target.error ?? "The platform refused the post.",
      };
    case "cancelled":
      return { label: "Cancelled", tone: "neutral", detail: target.error };
    default:
      return { label: target.status, tone: "neutral", detail: target.error };
  }
}

type CommentLike = {
  status: string;
  comment_status?: string | null;
  comment_error?: string | null;
};

/** The first comment's state in words (null: the target asks for none). */
export function commentState(target: CommentLike): StateWords | null {
  switch (target.comment_status) {
    case null:
    case undefined:
      return null;
    case "pending":
      return {
        label: "First comment: posted once the post is published",
        tone: "neutral",
        detail: target.comment_error ?? null,
      };
    case "posting":
      return { label: "First comment: posting…", tone: "neutral", detail: null };
    case "posted":
      return { label: "First comment posted", tone: "success", detail: null };
    case "in_doubt":
      return {
        label: "First comment: outcome unknown — checking the platform",
        tone: "warning",
        detail: target.comment_error ?? null,
      };
    case "failed":
      return {
        label: "First comment failed",
        tone: "danger",
        detail: target.comment_error ?? "The platform refused the comment.",
      };
    default:
      return { label: `First comment: ${target.comment_status}`, tone: "neutral", detail: null };
  }
}

const POST_STATUS: Record<string, { label: string; tone: Tone }> = {
  draft: { label: "Draft", tone: "neutral" },
  pending_approval: { label: "Waiting for approval", tone: "warning" },
  rejected: { label: "Rejected", tone: "danger" },
  scheduled: { label: "Scheduled", tone: "neutral" },
  publishing: { label: "Publishing", tone: "neutral" },
  published: { label: "Published", tone: "success" },
  partially_published: { label: "Partly published", tone: "warning" },
  failed: { label: "Failed", tone: "danger" },
  cancelled: { label: "Cancelled", tone: "neutral" },
};

export const POST_STATUSES = Object.keys(POST_STATUS);

export function postStatusWords(status: string): { label: string; tone: Tone } {
  return POST_STATUS[status] ?? { label: status, tone: "neutral" };
}
