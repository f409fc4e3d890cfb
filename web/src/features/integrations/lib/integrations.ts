/** What the Integrations page decides without the server: who may manage webhooks and API keys,
 * the webhook event types (the OpenAPI enum, checked at compile time), the roles a key may be
 * given, where a refusal belongs on a form, and a delivery's outcome in words. */
import type { Schemas } from "@/lib/api/client";
import { ApiError, describeError } from "@/lib/api/errors";

export type WebhookEvent = Schemas["EndpointIn"]["events"][number];
export type KeyRole = Schemas["ApiKeyIn"]["role"];

/** Every event type a webhook may subscribe to, in the API's order, with words for people. */
export const WEBHOOK_EVENTS = [
  { type: "post.scheduled", label: "A post is scheduled" },
  { type: "post.approved", label: "A post is approved" },
  { type: "post.rejected", label: "A post is rejected" },
  { type: "post.deleted", label: "A scheduled post is deleted" },
  { type: "post.published", label: "A post goes live on an account" },
  { type: "post.failed", label: "A post fails on an account" },
  { type: "post.in_doubt", label: "A post's outcome is unknown (not sent yet)" },
  { type: "account.connected", label: "An account is connected" },
  { type: "account.reauth_required", label: "An account needs reconnecting" },
  { type: "account.disconnected", label: "An account is disconnected" },
  { type: "account.token_expiring", label: "An account's grant expires soon (not sent yet)" },
  { type: "sync.completed", label: "A sync of numbers completes (not sent yet)" },
  { type: "endpoint.disabled", label: "Another endpoint is turned off" },
] as const satisfies readonly { type: WebhookEvent; label: string }[];

// Fails to compile when the API gains an event type this list does not name.
type Missing = Exclude<WebhookEvent, (typeof WEBHOOK_EVENTS)[number]["type"]>;
const everyEventNamed: [Missing] extends [never] ? true : Missing = true;
void everyEventNamed;

const EVENT_TYPES: readonly string[] = WEBHOOK_EVENTS.map((e) => e.type);

export function isWebhookEvent(value: string): value is WebhookEvent {
  return EVENT_TYPES.includes(value);
}

/** The chosen events in the API's order (a stable request and a stable list). */
export function orderedEvents(chosen: Iterable<string>): WebhookEvent[] {
  const set = new Set(chosen);
  return WEBHOOK_EVENTS.map((e) => e.type).filter((t) => set.has(t));
}

/** An endpoint's events for people: in the API's order (the server keeps them sorted by
 * name), anything this app does not know yet at the end rather than hidden. */
export function eventsForPeople(events: readonly string[]): string[] {
  return [...orderedEvents(events), ...events.filter((e) => !isWebhookEvent(e))];
}

const RANK: Record<KeyRole, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };
const KEY_ROLES: KeyRole[] = ["viewer", "editor", "admin", "owner"];

function isKeyRole(value: string | null | undefined): value is KeyRole {
  return value != null && value in RANK;
}

/** Webhooks and API keys are for a workspace's owners and admins (the server refuses others). */
export function canManageIntegrations(role: string | null | undefined): boolean {
  return isKeyRole(role) && RANK[role] >= RANK.admin;
}

/** The roles a new key may have: up to the creator's own, least powerful first. */
export function keyRoles(mine: string | null | undefined): KeyRole[] {
  if (!canManageIntegrations(mine)) return [];
  return KEY_ROLES.filter((r) => RANK[r] <= RANK[mine as KeyRole]);
}

/** Which field of a form the server's refusal is about, and its words. A named error the
 * form knows (`WebhookUrlRefused` is about the URL) or a malformed field (422 with its `loc`)
 * goes next to that field; anything else is the form's. */
export function placeError<F extends string>(
  error: unknown,
  fields: readonly F[],
  named: Partial<Record<string, F>> = {},
): { field: F | null; message: string } {
  if (error instanceof ApiError) {
    const known = named[error.code];
    if (known) return { field: known, message: error.message };
    const detail = (error.body as { detail?: unknown } | null)?.detail;
    if (Array.isArray(detail)) {
      for (const item of detail as { loc?: unknown[]; msg?: string }[]) {
        const field = (item.loc ?? []).find((p): p is F => typeof p === "string" && fields.includes(p as F));
        if (field) return { field, message: item.msg ?? error.message };
      }
    }
  }
  return { field: null, message: describeError(error) };
}

type Delivery = Pick<
  Schemas["DeliveryOut"],
  "status" | "response_code" | "duration_ms" | "error" | "attempt"
>;

/** A delivery's outcome in words: what the receiver answered, or why nothing was. */
export function deliveryOutcome(d: Delivery): string {
  const took = d.duration_ms != null ? ` in ${d.duration_ms} ms` : "";
  if (d.attempt === 0) return "Waiting for its first attempt";
  const answer = d.response_code != null ? `Answered ${d.response_code}${took}` : `No answer${took}`;
  if (d.status === "succeeded") return answer;
  return d.error ? `${answer}: ${d.error}` : answer;
}

export const STATUS_LABELS: Record<string, string> = {
  pending: "Pending",
  succeeded: "Delivered",
  failed: "Failed",
};
