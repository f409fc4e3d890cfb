/** An endpoint's deliveries, newest first, a page at a time ("Load more"), each with its
 * outcome in words and a Redeliver button. */
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { EmptyState, ErrorState, Loading } from "@/components/ui/states";
import { describeError } from "@/lib/api/errors";
import { useDeliveries, useRedeliver, type Delivery } from "../api/webhooks";
import { deliveryOutcome, STATUS_LABELS } from "../lib/integrations";

const TONES: Record<string, "success" | "warning" | "danger"> = {
  succeeded: "success",
  pending: "warning",
  failed: "danger",
};

function DeliveryRow({
  delivery,
  format,
  onRedeliver,
  busy,
}: {
  delivery: Delivery;
  format: Intl.DateTimeFormat;
  onRedeliver: () => void;
  busy: boolean;
}) {
  const when = format.format(new Date(delivery.created_at));
  return (
    <li className="grid gap-1 py-3">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="min-w-0 break-all font-mono text-sm">{delivery.event_type}</p>
        <Badge tone={TONES[delivery.status] ?? "neutral"}>{STATUS_LABELS[delivery.status] ?? delivery.status}</Badge>
      </div>
      <p className="text-sm">{deliveryOutcome(delivery)}</p>
      <p className="text-xs text-muted-foreground">
        Queued {when} · attempt {delivery.attempt}
        {delivery.next_attempt_at && delivery.status === "pending"
          ? ` · next attempt ${format.format(new Date(delivery.next_attempt_at))}`
          : ""}
      </p>
      <div>
        <Button
          variant="outline"
          size="sm"
          disabled={busy}
          aria-label={`Redeliver ${delivery.event_type} of ${when}`}
          onClick={onRedeliver}
        >
          Redeliver
        </Button>
      </div>
    </li>
  );
}

export function Deliveries({ webhookId, name, zone }: { webhookId: string; name: string; zone: string }) {
  const deliveries = useDeliveries(webhookId, true);
  const redeliver = useRedeliver(webhookId);
  const format = new Intl.DateTimeFormat(undefined, {
    dateStyle: "medium",
    timeStyle: "medium",
    timeZone: zone,
  });
  if (deliveries.isPending) return <Loading label="Loading the deliveries…" />;
  if (deliveries.isError)
    return <ErrorState error={deliveries.error} onRetry={() => void deliveries.refetch()} />;
  const items = deliveries.data.pages.flatMap((p) => p.items);
  return (
    <div className="grid gap-2">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <p className="text-sm text-muted-foreground">Newest first; times in {zone}.</p>
        <Button
          variant="ghost"
          size="sm"
          aria-label={`Refresh the deliveries to ${name}`}
          disabled={deliveries.isFetching}
          onClick={() => void deliveries.refetch()}
        >
          Refresh
        </Button>
      </div>
      {items.length === 0 ? (
        <EmptyState title="No deliveries yet">Send a test event to see one here.</EmptyState>
      ) : (
        <ul aria-label={`Deliveries to ${name}`} className="divide-y divide-border">
          {items.map((d) => (
            <DeliveryRow
              key={d.id}
              delivery={d}
              format={format}
              busy={redeliver.isPending}
              onRedeliver={() => redeliver.mutate(d.id)}
            />
          ))}
        </ul>
      )}
      {redeliver.isError && <Alert>{describeError(redeliver.error)}</Alert>}
      {redeliver.isSuccess && <Alert tone="info">Queued again under the same webhook-id.</Alert>}
      {deliveries.hasNextPage && (
        <div>
          <Button
            variant="outline"
            size="sm"
            // A refresh under way would cancel the page asked for: one at a time.
            disabled={deliveries.isFetching}
            onClick={() => void deliveries.fetchNextPage()}
          >
            {deliveries.isFetchingNextPage ? "Loading…" : "Load more"}
          </Button>
        </div>
      )}
    </div>
  );
}
