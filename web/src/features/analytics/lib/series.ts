/**
 * Turning the analytics API's answers into what the page draws, in the workspace's zone.
 */
import { TZDate } from "@date-fns/tz";
import { addDays, format, startOfDay } from "date-fns";

export type ApiBucket = { start: string; end: string; value?: number | null };
export type ChartPoint = { day: string; label: string; value: number | null };

/** One point per day bucket: its local date in the zone ("2026-03-29", the day the bucket
 * starts there, even a 23-hour DST day), a short label ("29 Mar") and the value (null: none
 * fetched that day, drawn as a gap). */
export function chartPoints(buckets: ApiBucket[], zone: string): ChartPoint[] {
  return buckets.map((bucket) => {
    const local = new TZDate(new Date(bucket.start).getTime(), zone);
    return {
      day: format(local, "yyyy-MM-dd"),
      label: format(local, "d MMM"),
      value: bucket.value ?? null,
    };
  });
}

/** The [from, to) instants of the last `days` whole days in the zone, today included. */
export function lastDays(days: number, zone: string, now: Date = new Date()): { from: string; to: string } {
  const today = startOfDay(new TZDate(now.getTime(), zone));
  const to = startOfDay(addDays(today, 1));
  const from = startOfDay(addDays(today, 1 - days));
  return { from: new Date(from.getTime()).toISOString(), to: new Date(to.getTime()).toISOString() };
}

/** The [from, to) instants of the whole days `first` to `last` ("yyyy-MM-dd", both included)
 * in the zone: a chosen range. */
export function dayRange(first: string, last: string, zone: string): { from: string; to: string } {
  const start = zonedMidnight(first, zone);
  const end = startOfDay(addDays(zonedMidnight(last, zone), 1));
  return { from: new Date(start.getTime()).toISOString(), to: new Date(end.getTime()).toISOString() };
}

function zonedMidnight(day: string, zone: string): TZDate {
  const [y, m, d] = day.split("-").map(Number) as [number, number, number];
  return startOfDay(new TZDate(y, m - 1, d, 12, 0, zone));
}

/** Today's date ("yyyy-MM-dd") in the zone. */
export function todayIn(zone: string, now: Date = new Date()): string {
  return format(new TZDate(now.getTime(), zone), "yyyy-MM-dd");
}

/** Why a chosen range cannot be asked, in words, or null. */
export function rangeProblem(first: string, last: string, today: string): string | null {
  if (!first || !last) return "Choose both days.";
  if (first > last) return "The first day is after the last.";
  if (first > today) return "The range starts after today.";
  return null;
}

/** How a metric is shown: a rate as a percentage, watch time in hours, the rest as counts. */
export function metricValue(metric: string, value: number | null | undefined): string {
  if (value == null) return "—";
  if (metric === "engagement_rate" || metric === "ctr" || metric === "viral_score") return percent(value);
  if (metric === "watch_time_s") return `${(value / 3600).toLocaleString("en", { maximumFractionDigits: 1 })} h`;
  return value.toLocaleString("en", { maximumFractionDigits: 2 });
}

/** A metric's name in words. */
export const METRIC_NAMES: Record<string, string> = {
  followers: "Followers",
  following: "Following",
  posts: "Posts (all time)",
  views: "Views",
  impressions: "Impressions",
  reach: "Reach",
  posts_published: "Posts published",
  likes: "Likes",
  comments: "Comments",
  shares: "Shares",
  saves: "Saves",
  clicks: "Clicks",
  video_views: "Video views",
  watch_time_s: "Watch time",
  engagements: "Engagements",
  engagement_rate: "Engagement rate",
  ctr: "Click-through rate",
  viral_score: "Viral score",
};

export type ApiSlot = {
  weekday: number;
  hour: number;
  posts: number;
  enough_data: boolean;
  median_engagement_rate?: number | null;
};
export type HeatCell = { weekday: number; hour: number; posts: number; rate: number | null; level: number };

/** A 7 × 24 grid (Monday first, hour 0 first) from the API's slots, each with a level 0–4
 * against the best median (0: no median). */
export function heatGrid(slots: ApiSlot[]): HeatCell[][] {
  const rates = slots.filter((s) => s.enough_data && s.median_engagement_rate != null);
  const best = Math.max(0, ...rates.map((s) => s.median_engagement_rate ?? 0));
  const grid: HeatCell[][] = Array.from({ length: 7 }, (_, weekday) =>
    Array.from({ length: 24 }, (_, hour) => ({ weekday, hour, posts: 0, rate: null, level: 0 })),
  );
  for (const slot of slots) {
    const rate = slot.enough_data ? (slot.median_engagement_rate ?? null) : null;
    const level = rate == null ? 0 : best > 0 ? Math.max(1, Math.ceil((rate / best) * 4)) : 1;
    const row = grid[slot.weekday];
    if (row) row[slot.hour] = { weekday: slot.weekday, hour: slot.hour, posts: slot.posts, rate, level };
  }
  return grid;
}

/** "4.2%" for a rate, "—" for none. */
export function percent(rate: number | null | undefined): string {
  return rate == null ? "—" : `${(rate * 100).toFixed(1)}%`;
}

/** "+12", "−3", "0" or "—" for a change. */
export function signed(change: number | null | undefined): string {
  if (change == null) return "—";
  if (change > 0) return `+${change.toLocaleString("en")}`;
  if (change < 0) return `−${Math.abs(change).toLocaleString("en")}`;
  return "0";
}

/** The file name of an export: "socialseed-analytics-2026-12-06.csv". */
export function exportFileName(format: "csv" | "json", zone: string, now: Date = new Date()): string {
  const day = new TZDate(now.getTime(), zone);
  return `socialseed-analytics-${formatDay(day)}.${format === "json" ? "ndjson" : "csv"}`;
}

/** The file name of a report: "socialseed-report-2026-12-06.pdf". */
export function reportFileName(format: "pdf" | "csv", zone: string, now: Date = new Date()): string {
  const day = new TZDate(now.getTime(), zone);
  return `socialseed-report-${formatDay(day)}.${format}`;
}

function formatDay(day: Date): string {
  return format(day, "yyyy-MM-dd");
}

/** An instant shown in the zone: "6 Dec, 22:40". */
export function inZone(iso: string | Date, zone: string, pattern = "d MMM, HH:mm"): string {
  const at = typeof iso === "string" ? new Date(iso) : iso;
  return format(new TZDate(at.getTime(), zone), pattern);
}

/** What a sync says of itself: how far it is, and what it waits for or why an account has no
 * new numbers ("3 of 10 posts fetched (waiting); resumes 7 Dec, 14:00: …"). */
export function syncProgress(
  sync: {
    synced: number;
    total_posts: number;
    status: string;
    resumes_at?: string | null;
    waiting_reason?: string | null;
    problems?: { platform: string; reason: string }[];
  },
  zone: string,
  platformName: (platform: string) => string = (p) => p,
): string {
  let words = `${sync.synced} of ${sync.total_posts} posts fetched (${sync.status})`;
  if (sync.status === "waiting" && sync.resumes_at) {
    words += `; resumes ${inZone(sync.resumes_at, zone)}${sync.waiting_reason ? `: ${sync.waiting_reason}` : ""}`;
  }
  for (const p of sync.problems ?? []) words += `; ${platformName(p.platform)}: ${p.reason}`;
  return words;
}
