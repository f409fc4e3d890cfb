import { describe, expect, it } from "vitest";
import {
  calendarDays,
  movedWallTime,
  formatInZone,
  instantOfWall,
  rangeInZone,
  wallTimeFromNow,
  wallTimeFast,
  wallTimeOf,
  wallTimeParam,
  zoneLabel,
} from "./zoned";

describe("the workspace's zone", () => {
  const now = new Date("2026-03-28T22:58:00Z"); // 23:58 in Paris, the night before spring forward

  it("names the zone with its offset at that instant", () => {
    expect(zoneLabel("Europe/Paris", now)).toBe("Europe/Paris (UTC+01:00)");
    expect(zoneLabel("Europe/Paris", new Date("2026-07-01T00:00:00Z"))).toBe("Europe/Paris (UTC+02:00)");
    expect(zoneLabel("Asia/Kolkata", now)).toBe("Asia/Kolkata (UTC+05:30)");
    expect(zoneLabel("UTC", now)).toBe("UTC (UTC+00:00)");
  });

  it("proposes a wall time in the zone, not the browser's, rounded to 5 minutes", () => {
    expect(wallTimeFromNow("Europe/Paris", 60, now)).toBe("2026-03-29T01:00");
    expect(wallTimeFromNow("America/New_York", 0, now)).toBe("2026-03-28T19:00");
    expect(wallTimeFromNow("Asia/Tokyo", 2, now)).toBe("2026-03-29T08:00");
  });

  it("sends wall times without an offset (the server reads them in the zone)", () => {
    expect(wallTimeParam("2026-03-29T02:30")).toBe("2026-03-29T02:30:00");
  });

  it("shows instants in the zone, across a DST change", () => {
    expect(formatInZone("2026-03-29T00:59:00Z", "Europe/Paris")).toBe("Sun 29 Mar 2026, 01:59");
    expect(formatInZone("2026-03-29T01:00:00Z", "Europe/Paris")).toBe("Sun 29 Mar 2026, 03:00");
    expect(wallTimeOf("2026-10-25T00:30:00Z", "Europe/Paris")).toBe("2026-10-25T02:30");
    expect(wallTimeOf("2026-10-25T01:30:00Z", "Europe/Paris")).toBe("2026-10-25T02:30");
  });

  it("reads wall times in the zone", () => {
    expect(instantOfWall("2026-11-01T10:00", "Europe/Paris").toISOString()).toBe("2026-11-01T09:00:00.000Z");
    expect(instantOfWall("2026-11-01", "America/New_York").toISOString()).toBe("2026-11-01T04:00:00.000Z");
  });

  it("gives a day of 23 hours on spring forward, and months and weeks in the zone", () => {
    const day = rangeInZone("day", new Date("2026-03-29T12:00:00Z"), "Europe/Paris");
    expect(day.start.toISOString()).toBe("2026-03-28T23:00:00.000Z");
    expect(day.end.toISOString()).toBe("2026-03-29T22:00:00.000Z");
    const month = rangeInZone("month", new Date("2026-03-31T23:30:00Z"), "Europe/Paris"); // April in Paris
    expect(month.start.toISOString()).toBe("2026-03-31T22:00:00.000Z");
    expect(month.end.toISOString()).toBe("2026-04-30T22:00:00.000Z");
    const week = rangeInZone("week", new Date("2026-11-04T12:00:00Z"), "Asia/Tokyo");
    expect(week.start.toISOString()).toBe("2026-11-01T15:00:00.000Z"); // Monday 2 Nov, 00:00 JST
  });
});

describe("the calendar's days", () => {
  it("shows six weeks from the Monday on or before the 1st, in the zone", () => {
    const { days, start, end } = calendarDays("month", new Date("2026-11-15T12:00:00Z"), "Europe/Paris", new Date("2026-11-03T10:00:00Z"));
    expect(days).toHaveLength(42);
    expect(days[0]).toMatchObject({ date: "2026-10-26", inMonth: false, label: "Monday 26 October 2026" });
    expect(days.find((d) => d.today)?.date).toBe("2026-11-03");
    expect(start.toISOString()).toBe("2026-10-25T23:00:00.000Z"); // after fall back: UTC+1
    expect(end.toISOString()).toBe("2026-12-06T23:00:00.000Z");
  });

  it("shows a week Monday to Sunday", () => {
    const { days } = calendarDays("week", new Date("2026-11-08T12:00:00Z"), "America/New_York");
    expect(days.map((d) => d.date)).toEqual([
      "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-07", "2026-11-08",
    ]);
  });

  it("moves a wall time to another day or hour, keeping the minutes", () => {
    expect(movedWallTime("2026-11-03T09:45", "2026-11-05")).toBe("2026-11-05T09:45");
    expect(movedWallTime("2026-11-03T09:45", "2026-11-05", 14)).toBe("2026-11-05T14:45");
  });

  it("places thousands of posts as wallTimeOf does, across DST and midnight", () => {
    const instants = [
      "2026-10-25T00:30:00Z",
      "2026-10-25T01:30:00Z",
      "2026-03-29T00:59:00Z",
      "2026-03-29T01:00:00Z",
      "2026-12-31T23:00:00Z",
      "2026-06-30T22:00:00.000Z",
    ];
    for (const zone of ["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC", "Pacific/Chatham"]) {
      for (const at of instants) expect(wallTimeFast(at, zone)).toBe(wallTimeOf(at, zone));
    }
    expect(wallTimeFast("2026-12-31T23:00:00Z", "Europe/Paris")).toBe("2027-01-01T00:00");
  });
});
