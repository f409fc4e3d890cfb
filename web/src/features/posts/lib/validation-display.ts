/** What the server's verdict on a draft means for the composer: each refused target's named
 * error in words (shown next to that target), a problem with the time (shown next to the
 * schedule picker), or a problem with the whole post. */
import { ApiError, describeError } from "@/lib/api/errors";

export type TargetProblem = { error: string; title: string; detail: string };

export type Verdict = {
  valid: boolean;
  /** When the server says the post is due (UTC), if it could tell. */
  scheduledAt: string | null;
  targets: Record<string, TargetProblem>;
  schedule: string | null;
  general: string | null;
};

const TITLES: Record<string, string> = {
  PlatformRules: "Breaks the platform's rules",
  AccountNotActive: "Account cannot publish",
  AccountNotFound: "Account not in this workspace",
  DuplicateTarget: "Chosen twice",
  MediaNotFound: "Media missing",
  PublishingCapReached: "Publishing cap reached",
  OptionsPlatformMismatch: "Options for another platform",
};

/** The errors that are about the time, not the content. */
export const SCHEDULE_ERRORS = new Set([
  "NonexistentLocalTime",
  "ScheduledInPast",
  "ScheduledTooFar",
  "InvalidTimezone",
]);

export function titleOf(error: string): string {
  return TITLES[error] ?? error.replace(/([a-z])([A-Z])/g, "$1 $2");
}

type ServerVerdict = {
  valid: boolean;
  scheduled_at: string;
  targets: Array<Record<string, string>>;
};

/** The verdict from the validate call's answer, or from the error it threw. */
export function readVerdict(answer: ServerVerdict | undefined, error: unknown): Verdict | null {
  if (error) {
    const named = error instanceof ApiError ? error : null;
    const words = describeError(error);
    const isSchedule = named !== null && SCHEDULE_ERRORS.has(named.code);
    return {
      valid: false,
      scheduledAt: null,
      targets: {},
      schedule: isSchedule ? words : null,
      general: isSchedule ? null : words,
    };
  }
  if (!answer) return null;
  const targets: Record<string, TargetProblem> = {};
  for (const problem of answer.targets) {
    const accountId = problem.account_id;
    if (!accountId) continue;
    const error = problem.error ?? "Refused";
    targets[accountId] = { error, title: titleOf(error), detail: problem.detail ?? "" };
  }
  return { valid: answer.valid, scheduledAt: answer.scheduled_at, targets, schedule: null, general: null };
}

/** A create or edit the server refused as `InvalidTargets`: each target's named error, to show
 * next to it (null for any other answer). */
export function readRefusal(error: unknown): Verdict | null {
  if (!(error instanceof ApiError) || error.code !== "InvalidTargets") return null;
  const body = error.body as { targets?: unknown } | null;
  if (!body || !Array.isArray(body.targets)) return null;
  const verdict = readVerdict({ valid: false, scheduled_at: "", targets: body.targets as Array<Record<string, string>> }, null);
  return verdict && { ...verdict, scheduledAt: null };
}
