/** A workspace's webhook endpoints: add one (its signing secret shown once), edit, delete,
 * rotate the secret (shown once), send a test event, and follow its deliveries. */
import { type ReactNode, useId, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Input } from "@/components/ui/input";
import { EmptyState, ErrorState, Loading } from "@/components/ui/states";
import { describeError } from "@/lib/api/errors";
import {
  useCreateWebhook,
  useDeleteWebhook,
  useRotateSecret,
  useSendTest,
  useUpdateWebhook,
  useWebhooks,
  type Webhook,
} from "../api/webhooks";
import { eventsForPeople, orderedEvents, placeError, type WebhookEvent } from "../lib/integrations";
import { ConfirmButton } from "./confirm-button";
import { Deliveries } from "./deliveries";
import { EventChoice } from "./event-choice";
import { SecretBox } from "./secret-box";

const FIELDS = ["url", "events", "description"] as const;
type WebhookField = (typeof FIELDS)[number];
const DEFAULT_EVENTS = ["post.published", "post.failed"];
const NAMED: Record<string, WebhookField> = { WebhookUrlRefused: "url" };

/** How an endpoint is named in buttons and regions: its description, else its URL. */
const nameOf = (w: Pick<Webhook, "description" | "url">) => w.description || w.url;

type Draft = { url: string; description: string; events: WebhookEvent[] };

/** What adding and editing an endpoint share: its URL, description and events, at least one
 * event required, and the API's refusal placed on the field it names. `children`: fields of
 * the edit alone (between the description and the events); `actions`: the buttons. */
function WebhookForm({
  label,
  className,
  initial,
  urlHint,
  error,
  onSubmit,
  actions,
  children,
}: {
  label: string;
  className?: string;
  initial: { url: string; description: string; events: Iterable<string> };
  urlHint?: string;
  /** The last submission's error, if it failed. */
  error: unknown;
  onSubmit: (draft: Draft) => void;
  actions: (draft: Draft) => ReactNode;
  children?: ReactNode;
}) {
  const [url, setUrl] = useState(initial.url);
  const [description, setDescription] = useState(initial.description);
  const [events, setEvents] = useState<Set<string>>(() => new Set(initial.events));
  const [noEvents, setNoEvents] = useState(false);
  const refusal = error ? placeError(error, FIELDS, NAMED) : null;
  const at = (f: WebhookField) => (refusal?.field === f ? refusal.message : undefined);
  const draft = { url: url.trim(), description: description.trim(), events: orderedEvents(events) };
  return (
    <form
      aria-label={label}
      className={className}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        setNoEvents(draft.events.length === 0);
        if (draft.events.length > 0) onSubmit(draft);
      }}
    >
      <Field label="Endpoint URL" hint={urlHint} error={at("url")}>
        <Input
          type="url"
          required
          autoComplete="off"
          placeholder="https://example.com/socialseed"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
        />
      </Field>
      <Field label="Description (optional)" error={at("description")}>
        <Input value={description} maxLength={500} onChange={(e) => setDescription(e.target.value)} />
      </Field>
      {children}
      <EventChoice
        chosen={events}
        onChange={(next) => {
          setEvents(next);
          setNoEvents(false);
        }}
        error={noEvents ? "Choose at least one event." : at("events")}
      />
      {refusal && refusal.field === null && <Alert>{refusal.message}</Alert>}
      {actions(draft)}
    </form>
  );
}

function CreateWebhook({ workspaceId }: { workspaceId: string }) {
  const create = useCreateWebhook(workspaceId);
  if (create.isSuccess)
    return (
      <SecretBox label="Signing secret" value={create.data.secret} onDone={() => create.reset()}>
        Verify each delivery's <code>webhook-signature</code> with it (any Standard Webhooks
        library); lost, it can be rotated.
      </SecretBox>
    );
  // Added, the form gives way to the secret; shown again, it starts empty.
  return (
    <WebhookForm
      label="Add a webhook endpoint"
      className="grid gap-4"
      initial={{ url: "", description: "", events: DEFAULT_EVENTS }}
      urlHint="Where SocialSeed POSTs the events: an https address of yours."
      error={create.error}
      onSubmit={(draft) => create.mutate({ ...draft, enabled: true })}
      actions={(draft) => (
        <div>
          <Button type="submit" disabled={create.isPending || draft.url === ""}>
            {create.isPending ? "Adding…" : "Add endpoint"}
          </Button>
        </div>
      )}
    />
  );
}

function EditWebhook({ webhook, onDone }: { webhook: Webhook; onDone: () => void }) {
  const update = useUpdateWebhook(webhook.workspace_id, webhook.id);
  const enabledId = useId();
  const [enabled, setEnabled] = useState(webhook.enabled);
  return (
    <WebhookForm
      label={`Edit ${nameOf(webhook)}`}
      className="grid gap-4 rounded-md border border-border p-3"
      initial={webhook}
      error={update.error}
      onSubmit={(draft) => update.mutate({ ...draft, enabled }, { onSuccess: onDone })}
      actions={() => (
        <div className="flex flex-wrap gap-2">
          <Button type="submit" disabled={update.isPending}>
            {update.isPending ? "Saving…" : "Save changes"}
          </Button>
          <Button type="button" variant="outline" onClick={onDone}>
            Cancel
          </Button>
        </div>
      )}
    >
      <div className="flex items-start gap-3">
        <input
          id={enabledId}
          type="checkbox"
          className="mt-1 size-4 accent-primary"
          checked={enabled}
          onChange={(e) => setEnabled(e.target.checked)}
          aria-describedby={`${enabledId}-hint`}
        />
        <div>
          <label htmlFor={enabledId} className="font-medium">
            Send events
          </label>
          <p id={`${enabledId}-hint`} className="text-sm text-muted-foreground">
            Off: nothing is sent. Turning it on again resumes the deliveries that wait.
          </p>
        </div>
      </div>
    </WebhookForm>
  );
}

function WebhookRow({ webhook, zone }: { webhook: Webhook; zone: string }) {
  const [editing, setEditing] = useState(false);
  const [showDeliveries, setShowDeliveries] = useState(false);
  const remove = useDeleteWebhook(webhook.workspace_id, webhook.id);
  const rotate = useRotateSecret(webhook.id);
  const test = useSendTest(webhook.id);
  const deliveriesId = useId();
  const name = nameOf(webhook);
  return (
    <li className="grid gap-3 py-4">
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          {webhook.description && <p className="font-medium break-words">{webhook.description}</p>}
          <p className="font-mono text-sm break-all">{webhook.url}</p>
        </div>
        <Badge tone={webhook.enabled ? "success" : "danger"}>{webhook.enabled ? "Enabled" : "Off"}</Badge>
      </div>
      {webhook.disabled_reason && (
        <p className="text-sm text-destructive">Turned off by SocialSeed: {webhook.disabled_reason}</p>
      )}
      <p className="text-sm text-muted-foreground">
        Events: <span className="font-mono text-xs break-words">{eventsForPeople(webhook.events).join(", ")}</span>
      </p>
      {editing ? (
        <EditWebhook webhook={webhook} onDone={() => setEditing(false)} />
      ) : (
        <div className="flex flex-wrap gap-2">
          <Button
            variant="outline"
            size="sm"
            aria-label={`Send test event to ${name}`}
            disabled={test.isPending}
            onClick={() => test.mutate(undefined, { onSuccess: () => setShowDeliveries(true) })}
          >
            Send test event
          </Button>
          <Button
            variant="outline"
            size="sm"
            aria-expanded={showDeliveries}
            aria-controls={deliveriesId}
            onClick={() => setShowDeliveries((v) => !v)}
          >
            {showDeliveries ? "Hide deliveries" : "Show deliveries"}
          </Button>
          <Button variant="outline" size="sm" aria-label={`Edit ${name}`} onClick={() => setEditing(true)}>
            Edit
          </Button>
          <ConfirmButton
            label="Rotate secret"
            accessibleName={`Rotate secret of ${name}`}
            title="Rotate the signing secret?"
            confirm="Rotate"
            keep="Keep the secret"
            pending={rotate.isPending}
            error={rotate.error}
            onConfirm={(close) => rotate.mutate(undefined, { onSuccess: close })}
          >
            A new secret signs every attempt from now on; the receiver must verify with it.
          </ConfirmButton>
          <ConfirmButton
            label="Delete"
            accessibleName={`Delete ${name}`}
            title={`Delete ${name}?`}
            confirm="Delete"
            keep="Keep it"
            pending={remove.isPending}
            error={remove.error}
            onConfirm={(close) => remove.mutate(undefined, { onSuccess: close })}
          >
            Nothing more is sent to it, and its deliveries are deleted with it.
          </ConfirmButton>
        </div>
      )}
      {test.isError && <Alert>{describeError(test.error)}</Alert>}
      {rotate.isSuccess && (
        <SecretBox label="New signing secret" value={rotate.data.secret} onDone={() => rotate.reset()} />
      )}
      {showDeliveries && (
        <section id={deliveriesId} aria-label={`Deliveries of ${name}`} className="grid gap-2">
          <h3 className="text-sm font-semibold">Deliveries</h3>
          <Deliveries webhookId={webhook.id} name={name} zone={zone} />
        </section>
      )}
    </li>
  );
}

export function WebhooksPanel({ workspaceId, zone }: { workspaceId: string; zone: string }) {
  const webhooks = useWebhooks(workspaceId);
  return (
    <div className="grid gap-6">
      {webhooks.isPending ? (
        <Loading label="Loading the webhook endpoints…" />
      ) : webhooks.isError ? (
        <ErrorState error={webhooks.error} onRetry={() => void webhooks.refetch()} />
      ) : webhooks.data.length === 0 ? (
        <EmptyState title="No webhook endpoints yet">
          Add one below to receive this workspace's events, signed.
        </EmptyState>
      ) : (
        <ul aria-label="Webhook endpoints" className="divide-y divide-border">
          {webhooks.data.map((w) => (
            <WebhookRow key={w.id} webhook={w} zone={zone} />
          ))}
        </ul>
      )}
      <div className="grid gap-3">
        <h3 className="font-semibold">Add an endpoint</h3>
        <CreateWebhook workspaceId={workspaceId} />
      </div>
    </div>
  );
}
