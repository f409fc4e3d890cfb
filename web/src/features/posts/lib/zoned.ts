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

const wallFormats = new Map<string, Intl.DateTimeFormat>();

/** The same as `wallTimeOf`, through one cached `Intl.DateTimeFormat` per zone: the calendar
 * places thousands of posts at once, and building a zoned date for each costs more. */
export function wallTimeFast(iso: string, zone: string): string {
  let formatter = wallFormats.get(zone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    wallFormats.set(zone, formatter);
  }
  const part: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
  for (const p of formatter.formatToParts(new Date(iso))) part[p.type] = p.value;
  return `${part.year?.padStart(4, "0")}-${part.month}-${part.day}T${part.hour}:${part.minute}`;
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

export type CalendarDay = { date: string; label: string; inMonth: boolean; today: boolean };

/** The days a month view (six weeks from the Monday on or before the 1st) or a week view
 * shows, in the zone, and the [start, end) instants they cover. */
export function calendarDays(
  view: "month" | "week",
  anchor: Date,
  zone: string,
  now: Date = new Date(),
): { days: CalendarDay[]; start: Date; end: Date } {
  const local = new TZDate(anchor.getTime(), zone);
  const first = view === "month" ? startOfWeek(startOfMonth(local), { weekStartsOn: 1 }) : startOfWeek(local, { weekStartsOn: 1 });
  const count = view === "month" ? 42 : 7;
  const month = local.getMonth();
  const today = formatInZone(now, zone, "yyyy-MM-dd");
  const days: CalendarDay[] = [];
  for (let i = 0; i < count; i++) {
    const day = startOfDay(addDays(first, i));
    const date = format(day, "yyyy-MM-dd");
    days.push({ date, label: format(day, "EEEE d MMMM yyyy"), inMonth: day.getMonth() === month, today: date === today });
  }
  return {
    days,
    start: new Date(first.getTime()),
    end: new Date(startOfDay(addDays(first, count)).getTime()),
  };
}

/** Move a wall time to another day (and hour), keeping the rest: the calendar's drop. */
export function movedWallTime(wall: string, date: string, hour?: number): string {
  const [, time = "00:00"] = wall.split("T");
  const [hh = "00", mm = "00"] = time.split(":");
  const h = hour === undefined ? hh : String(hour).padStart(2, "0");
  return `${date}T${h}:${mm}`;
}
