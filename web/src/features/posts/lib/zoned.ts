/**
 * Times in the workspace's zone. The schedule picker holds a wall time ("2026-11-01T10:00")
 * that is sent without an offset: the server reads it in the workspace's zone, refuses a wall
 * time the zone skips (NonexistentLocalTime, naming the gap) and answers the instant it means.
 * Displays are always in the workspace's zone, with the zone named.
 */
import { TZDate } from "@date-fns/tz";
import { addDays, addMinutes, format, startOfDay, startOfMonth, startOfWeek } from "date-fns";

/** "UTC+01:00" for the zone at that instant ("UTC+00:00" at offset zero, whatever the
 * engine's spelling). */
export function zoneOffset(zone: string, at: Date = new Date()): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "longOffset" })
    .formatToParts(at)
    .find((p) => p.type === "timeZoneName")?.value;
  const offset = (part ?? "GMT").replace("GMT", "");
  return `UTC${offset || "+00:00"}`;
}

/** "Europe/Paris (UTC+01:00)". */
export function zoneLabel(zone: string, at: Date = new Date()): string {
  return `${zone} (${zoneOffset(zone, at)})`;
}

/** The wall time in the zone `minutes` from now, rounded up to 5 minutes: the value of a
 * datetime-local input ("yyyy-MM-ddTHH:mm"). */
export function wallTimeFromNow(zone: string, minutes: number, now: Date = new Date()): string {
  const later = new TZDate(addMinutes(now, minutes).getTime(), zone);
  const rounded = addMinutes(later, (5 - (later.getMinutes() % 5)) % 5);
  return format(rounded, "yyyy-MM-dd'T'HH:mm");
}

/** What the API takes for a wall time in the post's zone: no offset. */
export function wallTimeParam(wall: string): string {
  return wall.length === 16 ? `${wall}:00` : wall;
}

/** An instant shown in the zone: "Sun 1 Nov 2026, 10:00". */
export function formatInZone(iso: string | Date, zone: string, pattern = "EEE d MMM yyyy, HH:mm"): string {
  const at = typeof iso === "string" ? new Date(iso) : iso;
  return format(new TZDate(at.getTime(), zone), pattern);
}

/** The wall time ("yyyy-MM-ddTHH:mm") an instant is in the zone. */
export function wallTimeOf(iso: string | Date, zone: string): string {
  return formatInZone(iso, zone, "yyyy-MM-dd'T'HH:mm");
}

/** The instant a wall time ("yyyy-MM-dd" or "yyyy-MM-ddTHH:mm") means in the zone (a
 * skipped wall time moves forward, as the zone's clocks do; used for ranges, not schedules). */
export function instantOfWall(wall: string, zone: string): Date {
  const parts = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(wall);
  if (!parts) throw new RangeError(`Not a wall time: ${wall}`);
  const [y, m, d, hh, mm] = parts.slice(1).map((p) => Number(p ?? 0)) as [number, number, number, number, number];
  return new Date(new TZDate(y, m - 1, d, hh, mm, zone).getTime());
}

export type RangeView = "month" | "week" | "day";

/** The [start, end) instants of the month, week (Monday first) or day around `anchor`, as
 * the zone's calendar has them (a day across a DST change is 23 or 25 hours long). */
export function rangeInZone(view: RangeView, anchor: Date, zone: string): { start: Date; end: Date } {
  const local = new TZDate(anchor.getTime(), zone);
  if (view === "month") {
    const start = startOfMonth(local);
    const end = startOfMonth(addDays(start, 32));
    return { start: new Date(start.getTime()), end: new Date(end.getTime()) };
  }
  if (view === "week") {
    const start = startOfWeek(local, { weekStartsOn: 1 });
    return { start: new Date(start.getTime()), end: new Date(startOfDay(addDays(start, 7)).getTime()) };
  }
  const start = startOfDay(local);
  return { start: new Date(start.getTime()), end: new Date(startOfDay(addDays(start, 1)).getTime()) };
}
