/**
 * The analytics page: a period (the last 7, 30 or 90 days, or chosen days), the period's
 * totals per platform and account, an account's metric over time, accounts compared side by
 * side, the top posts, the best times to post and each account's sync status with Refresh,
 * all in the workspace's zone.
 */
import { useId, useMemo, useState } from "react";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardTitle } from "@/components/ui/card";
import { Input, NativeSelect } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Alert } from "@/components/ui/alert";
import { EmptyState, ErrorState, Loading } from "@/components/ui/states";
import { describeError } from "@/lib/api/errors";
import { cn } from "@/lib/utils";
import {
  downloadExport,
  downloadReport,
  RetryLater,
  useBestTimes,
  useDashboard,
  useCompare,
  useRefresh,
  useRefreshAccount,
  useSync,
  useSyncStatus,
  useTimeseries,
  type AccountMetric,
  type Dashboard,
  type SyncStatus,
  type Period,
} from "../api/analytics";
import {
  chartPoints,
  dayRange,
  exportFileName,
  heatGrid,
  inZone,
  lastDays,
  METRIC_NAMES,
  metricValue,
  percent,
  rangeProblem,
  reportFileName,
  syncProgress,
  signed,
  todayIn,
} from "../lib/series";
import { BarChart, LineChart } from "./charts";

const PLATFORM_NAMES: Record<string, string> = {
  x: "X",
  instagram: "Instagram",
  facebook: "Facebook",
  linkedin: "LinkedIn",
  youtube: "YouTube",
  tiktok: "TikTok",
};
const platformName = (p: string) => PLATFORM_NAMES[p] ?? p;
const count = (n: number | null | undefined) => (n == null ? "—" : n.toLocaleString("en"));
const WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const PERIODS = ["7", "30", "90"] as const;
const ACCOUNT_METRICS: AccountMetric[] = ["followers", "following", "posts", "views", "impressions", "reach"];
const COMPARED = ["followers", "posts_published", "views", "impressions", "reach", "engagements", "engagement_rate"] as const;

/** The period asked: the last N whole days, or chosen days (a range that cannot be asked
 * keeps the last good one and says why). */
function usePeriod(zone: string) {
  const today = todayIn(zone);
  const [choice, setChoice] = useState<string>("30");
  const [first, setFirst] = useState("");
  const [last, setLast] = useState(today);
  const problem = choice === "custom" ? rangeProblem(first, last, today) : null;
  const [good, setGood] = useState<Period>(() => lastDays(30, zone));
  const wanted = useMemo(() => {
    if (choice !== "custom") return lastDays(Number(choice), zone);
    return problem ? null : dayRange(first, last, zone);
  }, [choice, first, last, problem, zone]);
  if (wanted && (wanted.from !== good.from || wanted.to !== good.to)) setGood(wanted);
  return { choice, setChoice, first, setFirst, last, setLast, problem, today, period: wanted ?? good };
}

export function AnalyticsPanel({ workspaceId, zone }: { workspaceId: string; zone: string }) {
  const { choice, setChoice, first, setFirst, last, setLast, problem, today, period } = usePeriod(zone);
  const dashboard = useDashboard(workspaceId, period);
  const periodId = useId();
  const firstId = useId();
  const lastId = useId();
  const problemId = useId();

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end gap-3">
        <div className="w-48">
          <Label htmlFor={periodId}>Period</Label>
          <NativeSelect
            id={periodId}
            value={choice}
            onChange={(e) => {
              if (e.target.value === "custom" && !first) setFirst(inZone(period.from, zone, "yyyy-MM-dd"));
              setChoice(e.target.value);
            }}
          >
            {PERIODS.map((d) => (
              <option key={d} value={d}>
                Last {d} days
              </option>
            ))}
            <option value="custom">Chosen days</option>
          </NativeSelect>
        </div>
        {choice === "custom" && (
          <>
            <div className="w-44">
              <Label htmlFor={firstId}>First day</Label>
              <Input
                id={firstId}
                type="date"
                value={first}
                max={today}
                aria-invalid={problem ? true : undefined}
                aria-describedby={problem ? problemId : undefined}
                onChange={(e) => setFirst(e.target.value)}
              />
            </div>
            <div className="w-44">
              <Label htmlFor={lastId}>Last day</Label>
              <Input
                id={lastId}
                type="date"
                value={last}
                aria-invalid={problem ? true : undefined}
                aria-describedby={problem ? problemId : undefined}
                onChange={(e) => setLast(e.target.value)}
              />
            </div>
          </>
        )}
        <p className="text-sm text-muted-foreground" data-testid="period">
          {inZone(period.from, zone, "d MMM yyyy")} to {inZone(new Date(new Date(period.to).getTime() - 1).toISOString(), zone, "d MMM yyyy")}, days in {zone}
        </p>
        <ExportLinks workspaceId={workspaceId} period={period} zone={zone} />
      </div>
      {problem && (
        <p id={problemId} role="alert" className="text-sm text-destructive">
          {problem} Showing the last good period.
        </p>
      )}
      {dashboard.isPending ? (
        <Loading label="Loading analytics…" />
      ) : dashboard.isError ? (
        <ErrorState error={dashboard.error} onRetry={() => void dashboard.refetch()} />
      ) : dashboard.data.accounts.length === 0 ? (
        <EmptyState title="No analytics yet">
          Connect an account: its posts and followers appear here once they are fetched.
        </EmptyState>
      ) : (
        <DashboardView dashboard={dashboard.data} period={period} zone={zone} />
      )}
      <BestTimes workspaceId={workspaceId} period={period} />
      <SyncPanel workspaceId={workspaceId} zone={zone} />
    </div>
  );
}

function DashboardView({ dashboard, period, zone }: { dashboard: Dashboard; period: Period; zone: string }) {
  return (
    <>
      <section aria-labelledby="platforms-heading">
        <h2 id="platforms-heading" className="mb-2 text-lg font-semibold">
          Platforms
        </h2>
        {dashboard.platforms.length === 0 ? (
          <EmptyState title="No posts in this period" />
        ) : (
          <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
            {dashboard.platforms.map((p) => (
              <li key={p.platform}>
                <Card aria-label={`${platformName(p.platform)} totals`} className="sm:p-4">
                  <CardTitle className="text-base">{platformName(p.platform)}</CardTitle>
                  <dl className="mt-2 grid grid-cols-3 gap-2 text-sm">
                    <Stat label="Posts published" value={count(p.posts_published)} />
                    <Stat label="Views" value={count(p.metrics.views ?? p.metrics.impressions)} />
                    <Stat label="Engagement rate" value={percent(p.metrics.engagement_rate)} />
                  </dl>
                </Card>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="accounts-heading">
        <h2 id="accounts-heading" className="mb-2 text-lg font-semibold">
          Followers
        </h2>
        <ul className="grid gap-3 sm:grid-cols-2">
          {dashboard.accounts.map((a) => (
            <li key={a.account.id} className="rounded-lg border border-border p-3 text-sm">
              <p className="font-medium">
                @{a.account.username} <span className="text-muted-foreground">({platformName(a.account.platform)})</span>
              </p>
              <p>
                <span className="text-2xl font-semibold" data-testid="followers">
                  {count(a.followers.value as number | null)}
                </span>{" "}
                followers, {signed(a.followers.change as number | null)} in the period
                {a.followers.growth != null && ` (${percent(a.followers.growth)})`}; {count(a.posts_published)} posts
              </p>
            </li>
          ))}
        </ul>
      </section>
      <AccountChart accounts={dashboard.accounts} period={period} zone={zone} />
      <CompareAccounts accounts={dashboard.accounts} period={period} />
      <section aria-labelledby="top-heading">
        <h2 id="top-heading" className="mb-2 text-lg font-semibold">
          Top posts
        </h2>
        {dashboard.top_posts.length === 0 ? (
          <EmptyState title="No posts fetched yet">
            A newly connected account's posts are fetched in the background; this page asks again every few seconds.
          </EmptyState>
        ) : (
          <ol className="space-y-2">
            {dashboard.top_posts.map((post) => (
              <li key={post.id} className="rounded-lg border border-border p-3 text-sm">
                <p className="break-words">{post.text || "(no text)"}</p>
                <p className="mt-1 text-muted-foreground">
                  {platformName(post.platform)} · {inZone(post.published_at, zone, "d MMM yyyy, HH:mm")} ·{" "}
                  {count(post.metrics.engagements)} engagements · {percent(post.metrics.engagement_rate)}
                  {post.url && (
                    <>
                      {" · "}
                      <a className="text-primary underline" href={post.url} target="_blank" rel="noreferrer noopener">
                        Open on {platformName(post.platform)}
                      </a>
                    </>
                  )}
                </p>
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <dt className="text-muted-foreground">{label}</dt>
      <dd className="text-xl font-semibold">{value}</dd>
    </div>
  );
}

function AccountChart({
  accounts,
  period,
  zone,
}: {
  accounts: Dashboard["accounts"];
  period: Period;
  zone: string;
}) {
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const [metric, setMetric] = useState<AccountMetric>("followers");
  const accountId = chosen ?? accounts[0]?.account.id;
  const series = useTimeseries(accountId, period, metric);
  const points = useMemo(() => chartPoints(series.data?.buckets ?? [], zone), [series.data, zone]);
  const selectId = useId();
  const metricId = useId();
  const account = accounts.find((a) => a.account.id === accountId)?.account;
  const known = points.filter((p) => p.value != null);
  const name = METRIC_NAMES[metric] ?? metric;

  return (
    <section aria-labelledby="chart-heading">
      <h2 id="chart-heading" className="mb-2 text-lg font-semibold">
        Over time
      </h2>
      <div className="mb-2 flex flex-wrap gap-3">
        <div className="w-64 max-w-full">
          <Label htmlFor={selectId}>Account</Label>
          <NativeSelect id={selectId} value={accountId} onChange={(e) => setChosen(e.target.value)}>
            {accounts.map((a) => (
              <option key={a.account.id} value={a.account.id}>
                @{a.account.username} ({platformName(a.account.platform)})
              </option>
            ))}
          </NativeSelect>
        </div>
        <div className="w-48">
          <Label htmlFor={metricId}>Metric</Label>
          <NativeSelect id={metricId} value={metric} onChange={(e) => setMetric(e.target.value as AccountMetric)}>
            {ACCOUNT_METRICS.map((m) => (
              <option key={m} value={m}>
                {METRIC_NAMES[m]}
              </option>
            ))}
          </NativeSelect>
        </div>
      </div>
      {series.isPending ? (
        <Loading label="Loading the chart…" />
      ) : series.isError ? (
        <ErrorState error={series.error} onRetry={() => void series.refetch()} />
      ) : known.length === 0 ? (
        <EmptyState title={`No ${name.toLowerCase()} counts in this period`}>
          {platformName(account?.platform ?? "")} may not report this number for an account, or none was fetched in these days.
        </EmptyState>
      ) : (
        <figure className="m-0 min-w-0 text-primary" data-testid="account-chart">
          <LineChart
            points={points}
            name={name.toLowerCase()}
            label={`${name} of @${account?.username ?? ""} per day: ${known[0]?.value?.toLocaleString("en")} on ${known[0]?.label}, ${known.at(-1)?.value?.toLocaleString("en")} on ${known.at(-1)?.label}`}
          />
          <figcaption className="mt-1 text-xs text-foreground">
            {name}, day buckets in {zone}
          </figcaption>
        </figure>
      )}
    </section>
  );
}

function CompareAccounts({ accounts, period }: { accounts: Dashboard["accounts"]; period: Period }) {
  const [picked, setPicked] = useState<Set<string> | null>(null);
  const [metric, setMetric] = useState<(typeof COMPARED)[number]>("followers");
  const ids = useMemo(
    () => accounts.map((a) => a.account.id).filter((id) => (picked ? picked.has(id) : true)).slice(0, 20),
    [accounts, picked],
  );
  const compare = useCompare(ids, period);
  const metricId = useId();
  const valueOf = (row: NonNullable<typeof compare.data>["accounts"][number], m: string) =>
    (row.counters[m] ?? row.posts[m])?.value ?? null;
  const toggle = (id: string) =>
    setPicked((current) => {
      const next = new Set(current ?? accounts.map((a) => a.account.id));
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const rows = compare.data?.accounts ?? [];
  const bars = rows
    .map((r) => ({ label: `@${r.account.username}`, value: valueOf(r, metric) }))
    .filter((b): b is { label: string; value: number } => typeof b.value === "number");

  return (
    <section aria-labelledby="compare-heading">
      <h2 id="compare-heading" className="mb-2 text-lg font-semibold">
        Compare accounts
      </h2>
      <fieldset className="mb-2 flex flex-wrap gap-x-4 gap-y-1 text-sm">
        <legend className="sr-only">Accounts to compare</legend>
        {accounts.map((a) => (
          <label key={a.account.id} className="flex min-h-8 items-center gap-2">
            <input type="checkbox" checked={ids.includes(a.account.id)} onChange={() => toggle(a.account.id)} />@{a.account.username} (
            {platformName(a.account.platform)})
          </label>
        ))}
      </fieldset>
      {ids.length === 0 ? (
        <EmptyState title="Choose an account to compare" />
      ) : compare.isPending ? (
        <Loading label="Comparing…" />
      ) : compare.isError ? (
        <ErrorState error={compare.error} onRetry={() => void compare.refetch()} />
      ) : (
        <>
          <div className="relative overflow-x-auto" tabIndex={0} role="region" aria-label="Accounts compared (scrolls sideways)">
            <table className="w-full text-left text-sm" data-testid="compare-table">
              <caption className="sr-only">Accounts compared over the period; change against the previous period of the same length</caption>
              <thead>
                <tr className="border-b border-border">
                  <th scope="col" className="py-1 pr-3 font-medium">
                    Account
                  </th>
                  {COMPARED.map((m) => (
                    <th key={m} scope="col" className="py-1 pr-3 font-medium">
                      {METRIC_NAMES[m]}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.account.id} className="border-b border-border">
                    <th scope="row" className="py-1 pr-3 font-normal">
                      @{r.account.username} ({platformName(r.account.platform)})
                    </th>
                    {COMPARED.map((m) => {
                      const change = r.counters[m] ?? r.posts[m];
                      return (
                        <td key={m} className="py-1 pr-3">
                          {metricValue(m, change?.value)}
                          {change?.growth != null && <span className="ml-1 text-xs text-muted-foreground">({signedPercent(change.growth)})</span>}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div className="mt-3 w-56">
            <Label htmlFor={metricId}>Chart</Label>
            <NativeSelect id={metricId} value={metric} onChange={(e) => setMetric(e.target.value as (typeof COMPARED)[number])}>
              {COMPARED.map((m) => (
                <option key={m} value={m}>
                  {METRIC_NAMES[m]}
                </option>
              ))}
            </NativeSelect>
          </div>
          {bars.length === 0 ? (
            <p className="mt-2 text-sm text-muted-foreground">No {METRIC_NAMES[metric]?.toLowerCase()} for these accounts in this period.</p>
          ) : (
            <figure className="m-0 mt-2 min-w-0 text-primary" data-testid="compare-chart">
              <BarChart
                bars={bars}
                format={(v) => metricValue(metric, v)}
                label={`${METRIC_NAMES[metric]}: ${bars.map((b) => `${b.label} ${metricValue(metric, b.value)}`).join(", ")}`}
              />
            </figure>
          )}
        </>
      )}
    </section>
  );
}

function signedPercent(growth: number): string {
  return `${growth > 0 ? "+" : growth < 0 ? "−" : ""}${(Math.abs(growth) * 100).toFixed(1)}%`;
}

const LEVELS = ["bg-muted", "bg-primary/25", "bg-primary/45", "bg-primary/70", "bg-primary"];

function BestTimes({ workspaceId, period }: { workspaceId: string; period: Period }) {
  const best = useBestTimes(workspaceId, period);
  const grid = useMemo(() => heatGrid(best.data?.slots ?? []), [best.data]);
  return (
    <section aria-labelledby="best-heading">
      <h2 id="best-heading" className="mb-2 text-lg font-semibold">
        Best times to post
      </h2>
      {best.isPending ? (
        <Loading label="Loading the best times…" />
      ) : best.isError ? (
        <ErrorState error={best.error} onRetry={() => void best.refetch()} />
      ) : (
        <>
          <p className="mb-2 text-sm text-muted-foreground">
            Median engagement rate by the hour and weekday of publication in {best.data.timezone}; a slot needs{" "}
            {best.data.min_posts} posts.{" "}
            {best.data.best[0]
              ? `Best: ${WEEKDAYS[best.data.best[0].weekday]} ${String(best.data.best[0].hour).padStart(2, "0")}:00 (${percent(best.data.best[0].median_engagement_rate)}).`
              : "No slot has enough posts yet."}
          </p>
          <div className="relative overflow-x-auto" tabIndex={0} role="region" aria-label="Best times heat map (scrolls sideways)">
            <table className="border-separate border-spacing-0.5 text-xs" data-testid="heatmap">
              <caption className="sr-only">Median engagement rate by weekday and hour</caption>
              <thead>
                <tr>
                  <td />
                  {Array.from({ length: 24 }, (_, h) => (
                    <th key={h} scope="col" className="w-4 font-normal text-muted-foreground">
                      {h % 6 === 0 ? String(h).padStart(2, "0") : <span className="sr-only">{h}</span>}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {grid.map((row, weekday) => (
                  <tr key={weekday}>
                    <th scope="row" className="pr-1 text-left font-normal">
                      {WEEKDAYS[weekday]?.slice(0, 3)}
                    </th>
                    {row.map((cell) => (
                      <td
                        key={cell.hour}
                        className={cn("h-4 w-4 min-w-3 rounded-sm", LEVELS[cell.level])}
                        title={`${WEEKDAYS[weekday]} ${String(cell.hour).padStart(2, "0")}:00 — ${cell.posts} posts, ${percent(cell.rate)}`}
                      >
                        <span className="sr-only">{cell.rate == null ? `${cell.posts} posts` : percent(cell.rate)}</span>
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function SyncPanel({ workspaceId, zone }: { workspaceId: string; zone: string }) {
  const status = useSyncStatus(workspaceId);
  const refresh = useRefresh(workspaceId);
  const sync = useSync(refresh.data?.sync_id);
  const error = refresh.error;
  return (
    <section aria-labelledby="sync-heading">
      <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
        <h2 id="sync-heading" className="text-lg font-semibold">
          Sync status
        </h2>
        <Button size="sm" onClick={() => refresh.mutate()} disabled={refresh.isPending}>
          {refresh.isPending ? "Refreshing…" : "Refresh all"}
        </Button>
      </div>
      <div aria-live="polite" className="mb-2 text-sm">
        {error ? (
          <Alert>
            {describeError(error)}
            {error instanceof RetryLater && ` You may refresh again at ${inZone(error.retryAt, zone, "HH:mm:ss")} (${zone}).`}
          </Alert>
        ) : refresh.data ? (
          <p role="status">
            {refresh.data.already_running ? "A refresh is already running: " : "Refreshing: "}
            {sync.data ? syncProgress(sync.data, zone, platformName) : `${refresh.data.total_posts} posts to fetch`}
            .
          </p>
        ) : null}
      </div>
      {status.isPending ? (
        <Loading label="Loading the sync status…" />
      ) : status.isError ? (
        <ErrorState error={status.error} onRetry={() => void status.refetch()} />
      ) : status.data.accounts.length === 0 ? (
        <EmptyState title="No accounts to sync" />
      ) : (
        <ul className="space-y-2">
          {status.data.accounts.map((a) => (
            <SyncRow key={a.account_id} account={a} workspaceId={workspaceId} zone={zone} />
          ))}
        </ul>
      )}
    </section>
  );
}

function SyncRow({
  account: a,
  workspaceId,
  zone,
}: {
  account: SyncStatus["accounts"][number];
  workspaceId: string;
  zone: string;
}) {
  const refresh = useRefreshAccount(workspaceId);
  const sync = useSync(refresh.data?.sync_id);
  const error = refresh.error;
  const name = `@${a.username} (${platformName(a.platform)})`;
  return (
    <li className="rounded-lg border border-border p-3 text-sm" aria-label={`Sync of ${name}`}>
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-medium">{name}</span>
        <Badge tone={a.status === "active" ? "success" : "warning"}>{a.status}</Badge>
        <span className="text-muted-foreground">
          {a.last_synced_at ? `synced ${inZone(a.last_synced_at, zone)}` : "not synced yet"}
          {a.next_sync_at && `, next ${inZone(a.next_sync_at, zone)}`} · {a.tracked_posts} posts tracked
          {a.due_posts > 0 && `, ${a.due_posts} due`}
        </span>
        <Button
          size="sm"
          variant="outline"
          className="ml-auto"
          onClick={() => refresh.mutate(a.account_id)}
          disabled={refresh.isPending || a.status !== "active"}
        >
          {refresh.isPending ? "Refreshing…" : "Refresh"}
          <span className="sr-only"> {name}</span>
        </Button>
      </div>
      {a.problem && (
        <Alert className="mt-2">
          No new numbers: {a.problem}
          {a.problem_at && ` (since ${inZone(a.problem_at, zone)})`}
        </Alert>
      )}
      {a.waiting && (
        <p className="mt-1 text-muted-foreground">
          Waiting until {inZone(a.waiting.until, zone)}: {a.waiting.reason}
        </p>
      )}
      <div aria-live="polite">
        {error ? (
          <Alert className="mt-2">
            {describeError(error)}
            {error instanceof RetryLater && ` You may refresh again at ${inZone(error.retryAt, zone, "HH:mm:ss")} (${zone}).`}
          </Alert>
        ) : refresh.data ? (
          <p role="status" className="mt-1">
            {refresh.data.already_running ? "A refresh is already running: " : "Refreshing: "}
            {sync.data ? syncProgress(sync.data, zone, platformName) : `${refresh.data.total_posts} posts to fetch`}
            .
          </p>
        ) : null}
      </div>
    </li>
  );
}

type Download = "csv" | "json" | "report-pdf" | "report-csv";

function ExportLinks({ workspaceId, period, zone }: { workspaceId: string; period: Period; zone: string }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<Download | null>(null);
  const save = async (what: Download) => {
    setBusy(what);
    setError(null);
    try {
      if (what === "report-pdf" || what === "report-csv") {
        const format = what === "report-pdf" ? "pdf" : "csv";
        await downloadReport(workspaceId, format, period, reportFileName(format, zone));
      } else {
        await downloadExport(workspaceId, what, period, exportFileName(what, zone));
      }
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  const button = (what: Download, label: string, working: string) => (
    <Button variant="outline" size="sm" disabled={busy !== null} onClick={() => void save(what)}>
      {busy === what ? working : label}
    </Button>
  );
  return (
    <div className="ml-auto flex flex-wrap items-center gap-2">
      {button("report-pdf", "Report PDF", "Making the report…")}
      {button("report-csv", "Report CSV", "Making the report…")}
      {button("csv", "Export CSV", "Exporting…")}
      {button("json", "Export JSON", "Exporting…")}
      {error != null && <Alert className="w-full">{describeError(error)}</Alert>}
    </div>
  );
}

