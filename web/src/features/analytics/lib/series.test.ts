import { describe, expect, it } from "vitest";
import { chartPoints, dayRange, exportFileName, heatGrid, lastDays, metricValue, percent, rangeProblem, reportFileName, signed, syncProgress, todayIn } from "./series";

describe("chartPoints", () => {
  it("labels each day bucket with its local date in the zone, across a DST change", () => {
    // Europe/Paris springs forward on 29 March 2026: that day is 23 hours long.
    const points = chartPoints(
      [
        { start: "2026-03-28T00:00:00+01:00", end: "2026-03-29T00:00:00+01:00", value: 10 },
        { start: "2026-03-29T00:00:00+01:00", end: "2026-03-30T00:00:00+02:00", value: null },
        { start: "2026-03-30T00:00:00+02:00", end: "2026-03-31T00:00:00+02:00", value: 12 },
      ],
      "Europe/Paris",
    );
    expect(points).toEqual([
      { day: "2026-03-28", label: "28 Mar", value: 10 },
      { day: "2026-03-29", label: "29 Mar", value: null },
      { day: "2026-03-30", label: "30 Mar", value: 12 },
    ]);
  });

  it("uses the workspace's zone, not UTC: midnight in Tokyo is the previous day in UTC", () => {
    const [point] = chartPoints([{ start: "2026-01-05T00:00:00+09:00", end: "2026-01-06T00:00:00+09:00", value: 3 }], "Asia/Tokyo");
    expect(point?.day).toBe("2026-01-05");
  });
});

describe("lastDays", () => {
  it("covers whole days in the zone, today included", () => {
    const now = new Date("2026-03-30T10:00:00Z");
    expect(lastDays(3, "Europe/Paris", now)).toEqual({
      from: "2026-03-27T23:00:00.000Z",
      to: "2026-03-30T22:00:00.000Z",
    });
  });
});

describe("heatGrid", () => {
  it("places slots by weekday and hour and grades them against the best median", () => {
    const grid = heatGrid([
      { weekday: 0, hour: 9, posts: 4, enough_data: true, median_engagement_rate: 0.04 },
      { weekday: 2, hour: 18, posts: 5, enough_data: true, median_engagement_rate: 0.01 },
      { weekday: 6, hour: 23, posts: 1, enough_data: false, median_engagement_rate: null },
    ]);
    expect(grid).toHaveLength(7);
    expect(grid[0]).toHaveLength(24);
    expect(grid[0]?.[9]).toMatchObject({ level: 4, rate: 0.04, posts: 4 });
    expect(grid[2]?.[18]).toMatchObject({ level: 1, rate: 0.01 });
    expect(grid[6]?.[23]).toMatchObject({ level: 0, rate: null, posts: 1 });
    expect(grid[3]?.[3]).toMatchObject({ level: 0, posts: 0 });
  });
});

describe("words", () => {
  it("formats rates, changes and export names", () => {
    expect(percent(0.0423)).toBe("4.2%");
    expect(percent(null)).toBe("—");
    expect(signed(1200)).toBe("+1,200");
    expect(signed(-3)).toBe("−3");
    expect(signed(0)).toBe("0");
    expect(signed(null)).toBe("—");
    expect(exportFileName("json", "Asia/Tokyo", new Date("2026-12-06T20:00:00Z"))).toBe(
      "socialseed-analytics-2026-12-07.ndjson",
    );
    expect(reportFileName("pdf", "America/New_York", new Date("2026-12-07T03:00:00Z"))).toBe(
      "socialseed-report-2026-12-06.pdf",
    );
  });
});

describe("a chosen range", () => {
  it("is whole days in the zone, both ends included, across the spring DST change", () => {
    // Paris: 29 March 2026 is 23 hours long; the range ends at local midnight after the last day.
    expect(dayRange("2026-03-28", "2026-03-29", "Europe/Paris")).toEqual({
      from: "2026-03-27T23:00:00.000Z",
      to: "2026-03-29T22:00:00.000Z",
    });
    expect(dayRange("2026-01-05", "2026-01-05", "Asia/Tokyo")).toEqual({
      from: "2026-01-04T15:00:00.000Z",
      to: "2026-01-05T15:00:00.000Z",
    });
  });

  it("names what is wrong with it", () => {
    expect(rangeProblem("2026-03-02", "2026-03-01", "2026-03-10")).toBe("The first day is after the last.");
    expect(rangeProblem("2026-03-11", "2026-03-12", "2026-03-10")).toBe("The range starts after today.");
    expect(rangeProblem("", "2026-03-12", "2026-03-10")).toBe("Choose both days.");
    expect(rangeProblem("2026-03-01", "2026-03-01", "2026-03-10")).toBeNull();
  });

  it("knows today in the zone", () => {
    expect(todayIn("Asia/Tokyo", new Date("2026-01-04T16:00:00Z"))).toBe("2026-01-05");
  });
});

describe("metricValue", () => {
  it("shows rates as percentages, watch time in hours, counts with separators", () => {
    expect(metricValue("engagement_rate", 0.0421)).toBe("4.2%");
    expect(metricValue("watch_time_s", 5400)).toBe("1.5 h");
    expect(metricValue("views", 12345)).toBe("12,345");
    expect(metricValue("views", null)).toBe("—");
  });
});

describe("a sync in words", () => {
  it("says what it waits for and why an account has no new numbers", () => {
    const base = { synced: 3, total_posts: 10, problems: [] };
    expect(syncProgress({ ...base, status: "running" }, "UTC")).toBe("3 of 10 posts fetched (running)");
    expect(
      syncProgress(
        { ...base, status: "waiting", resumes_at: "2026-12-07T14:00:00Z", waiting_reason: "X's window is spent" },
        "Europe/Paris",
      ),
    ).toBe("3 of 10 posts fetched (waiting); resumes 7 Dec, 15:00: X's window is spent");
    expect(
      syncProgress(
        { ...base, status: "partial", problems: [{ platform: "linkedin", reason: "r_member_postAnalytics missing" }] },
        "UTC",
        (p) => (p === "linkedin" ? "LinkedIn" : p),
      ),
    ).toBe("3 of 10 posts fetched (partial); LinkedIn: r_member_postAnalytics missing");
  });
});
