import { useId } from "react";
import { WEBHOOK_EVENTS } from "../lib/integrations";

/** The event types as checkboxes, grouped under one legend; its error is tied to the group. */
export function EventChoice({
  chosen,
  onChange,
  error,
  legend = "Events to send",
}: {
  chosen: ReadonlySet<string>;
  onChange: (next: Set<string>) => void;
  error?: string;
  legend?: string;
}) {
  const id = useId();
  return (
    <fieldset
      className="grid gap-2"
      aria-describedby={error ? `${id}-error` : undefined}
      aria-invalid={error ? true : undefined}
    >
      <legend className="mb-1 text-sm font-medium">{legend}</legend>
      <div className="grid gap-1 sm:grid-cols-2">
        {WEBHOOK_EVENTS.map((e) => (
          <label key={e.type} className="flex items-start gap-2 text-sm">
            <input
              type="checkbox"
              className="mt-1 size-4 shrink-0 accent-primary"
              checked={chosen.has(e.type)}
              onChange={(ev) => {
                const next = new Set(chosen);
                if (ev.target.checked) next.add(e.type);
                else next.delete(e.type);
                onChange(next);
              }}
            />
            <span>
              <code className="font-mono text-xs">{e.type}</code>
              <span className="block text-muted-foreground">{e.label}</span>
            </span>
          </label>
        ))}
      </div>
      {error && (
        <p id={`${id}-error`} className="text-sm text-destructive">
          {error}
        </p>
      )}
    </fieldset>
  );
}
