/** When to publish: now, or a wall time in the workspace's zone (the zone always shown). */
import { useId } from "react";
import { Input } from "@/components/ui/input";
import { formatInZone, wallTimeFromNow, zoneLabel } from "../lib/zoned";

export function SchedulePicker({
  zone,
  timing,
  wall,
  problem,
  dueAt,
  onChange,
}: {
  zone: string;
  timing: "now" | "later";
  wall: string;
  problem: string | null;
  dueAt: string | null;
  onChange: (next: { timing: "now" | "later"; wall: string }) => void;
}) {
  const id = useId();
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return (
    <fieldset className="grid gap-3">
      <legend className="text-sm font-medium">When</legend>
      <div className="flex flex-wrap gap-4">
        <label className="flex min-h-9 items-center gap-2 text-sm">
          <input
            type="radio"
            name={`${id}-timing`}
            className="size-4 accent-primary"
            checked={timing === "now"}
            onChange={() => onChange({ timing: "now", wall })}
          />
          Publish now
        </label>
        <label className="flex min-h-9 items-center gap-2 text-sm">
          <input
            type="radio"
            name={`${id}-timing`}
            className="size-4 accent-primary"
            checked={timing === "later"}
            onChange={() => onChange({ timing: "later", wall: wall || wallTimeFromNow(zone, 60) })}
          />
          Schedule for later
        </label>
      </div>
      {timing === "later" && (
        <div className="grid gap-1">
          <label htmlFor={id} className="text-sm font-medium">
            Date and time in {zone}
          </label>
          <Input
            id={id}
            type="datetime-local"
            className="max-w-64"
            value={wall}
            aria-invalid={problem ? true : undefined}
            aria-describedby={`${id}-zone${problem ? ` ${id}-problem` : ""}`}
            onChange={(e) => onChange({ timing, wall: e.target.value })}
          />
          <p id={`${id}-zone`} className="text-xs text-muted-foreground">
            Time zone: {zoneLabel(zone)}, the workspace's.
            {dueAt && browserZone !== zone && !problem && (
              <> That is {formatInZone(dueAt, browserZone)} where you are ({browserZone}).</>
            )}
          </p>
          {problem && (
            <p id={`${id}-problem`} role="alert" className="text-sm text-destructive">
              {problem}
            </p>
          )}
        </div>
      )}
    </fieldset>
  );
}
