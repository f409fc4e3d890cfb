/**
 * The analytics page: the period's totals per platform and account, the top posts, a
 * followers chart, the best times to post and each account's sync status, all in the
 * workspace's zone.
 */
import { useId, useMemo, useState } from "react";
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardTitle } from "@/components/ui/card";
import { NativeSelect } from "@/components/ui/input";
import { Label } from "@/components/ui/label";
import { Alert } from "@/components/ui/alert";
import { EmptyState, ErrorState, Loading } from "@/components/ui/states";
import { describeError } from "@/lib/api/errors";
import { cn } from "@/lib/utils";
import {
  downloadExport,
  RetryLater,
  useBestTimes,
  useDashboard,
  useRefresh,
  useSync,
  useSyncStatus,
  useTimeseries,
  type Dashboard,
  type Period,
} from "../api/analytics";
import { chartPoints, exportFileName, heatGrid, inZone, lastDays, percent, signed } from "../lib/series";

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
const PERIODS = [7, 30, 90] as const;

export function AnalyticsPanel({ workspaceId, zone }: { workspaceId: string; zone: string }) {
  const [days, setDays] = useState<number>(30);
  const period = useMemo(() => lastDays(days, zone), [days, zone]);
  const dashboard = useDashboard(workspaceId, period);
  const periodId = useId();

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end gap-3">
        <div className="w-48">
          <Label htmlFor={periodId}>Period</Label>
          <NativeSelect id={periodId} value={days} onChange={(e) => setDays(Number(e.target.value))}>
            {PERIODS.map((d) => (
              <option key={d} value={d}>
                Last {d} days
              </option>
            ))}
          </NativeSelect>
        </div>
        <p className="text-sm text-muted-foreground">Days in {zone}</p>
        <ExportLinks workspaceId={workspaceId} period={period} zone={zone} />
      </div>
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
      <FollowersChart accounts={dashboard.accounts} period={period} zone={zone} />
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

function FollowersChart({
  accounts,
  period,
  zone,
}: {
  accounts: Dashboard["accounts"];
  period: Period;
  zone: string;
}) {
  const [chosen, setChosen] = useState<string | undefined>(undefined);
  const accountId = chosen ?? accounts[0]?.account.id;
  const series = useTimeseries(accountId, period);
  const points = useMemo(() => chartPoints(series.data?.buckets ?? [], zone), [series.data, zone]);
  const selectId = useId();
  const account = accounts.find((a) => a.account.id === accountId)?.account;
  const known = points.filter((p) => p.value != null);

  return (
    <section aria-labelledby="chart-heading">
      <h2 id="chart-heading" className="mb-2 text-lg font-semibold">
        Followers over time
      </h2>
      <div className="mb-2 w-64 max-w-full">
        <Label htmlFor={selectId}>Account</Label>
        <NativeSelect id={selectId} value={accountId} onChange={(e) => setChosen(e.target.value)}>
          {accounts.map((a) => (
            <option key={a.account.id} value={a.account.id}>
              @{a.account.username} ({platformName(a.account.platform)})
            </option>
          ))}
        </NativeSelect>
      </div>
      {series.isPending ? (
        <Loading label="Loading the chart…" />
      ) : series.isError ? (
        <ErrorState error={series.error} onRetry={() => void series.refetch()} />
      ) : known.length === 0 ? (
        <EmptyState title="No follower counts in this period yet" />
      ) : (
        <figure className="m-0 min-w-0 text-primary" data-testid="followers-chart">
          <div
            role="img"
            aria-label={`Followers of @${account?.username ?? ""} per day: ${known[0]?.value} on ${known[0]?.label}, ${known.at(-1)?.value} on ${known.at(-1)?.label}`}
            className="h-64 w-full min-w-0 overflow-hidden"
          >
            <ResponsiveContainer width="100%" height="100%">
              <LineChart data={points} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
                <CartesianGrid stroke="currentColor" strokeOpacity={0.15} />
                <XAxis dataKey="label" stroke="currentColor" tick={{ fill: "currentColor", fontSize: 12 }} />
                <YAxis
                  stroke="currentColor"
                  tick={{ fill: "currentColor", fontSize: 12 }}
                  width={56}
                  allowDecimals={false}
                  domain={["auto", "auto"]}
                />
                <Tooltip wrapperClassName="text-foreground" />
                <Line
                  type="monotone"
                  dataKey="value"
                  name="Followers"
                  stroke="currentColor"
                  strokeWidth={2}
                  dot={{ r: 3 }}
                  connectNulls
                  isAnimationActive={false}
                />
              </LineChart>
            </ResponsiveContainer>
          </div>
          <figcaption className="mt-1 text-xs text-foreground">Day buckets in {zone}</figcaption>
        </figure>
      )}
    </section>
  );
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
          {refresh.isPending ? "Refreshing…" : "Refresh"}
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
            {sync.data
              ? `${sync.data.synced} of ${sync.data.total_posts} posts fetched (${sync.data.status})`
              : `${refresh.data.total_posts} posts to fetch`}
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
            <li key={a.account_id} className="flex flex-wrap items-center gap-2 rounded-lg border border-border p-3 text-sm">
              <span className="font-medium">
                @{a.username} ({platformName(a.platform)})
              </span>
              <Badge tone={a.status === "active" ? "success" : "warning"}>{a.status}</Badge>
              <span className="text-muted-foreground">
                {a.last_synced_at ? `synced ${inZone(a.last_synced_at, zone)}` : "not synced yet"}
                {a.next_sync_at && `, next ${inZone(a.next_sync_at, zone)}`} · {a.tracked_posts} posts tracked
                {a.due_posts > 0 && `, ${a.due_posts} due`}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function ExportLinks({ workspaceId, period, zone }: { workspaceId: string; period: Period; zone: string }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState<"csv" | "json" | null>(null);
  const save = async (format: "csv" | "json") => {
    setBusy(format);
    setError(null);
    try {
      await downloadExport(workspaceId, format, period, exportFileName(format, zone));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(null);
    }
  };
  return (
    <div className="ml-auto flex flex-wrap items-center gap-2">
      <Button variant="outline" size="sm" disabled={busy !== null} onClick={() => void save("csv")}>
        {busy === "csv" ? "Exporting…" : "Export CSV"}
      </Button>
      <Button variant="outline" size="sm" disabled={busy !== null} onClick={() => void save("json")}>
        {busy === "json" ? "Exporting…" : "Export JSON"}
      </Button>
      {error != null && <Alert className="w-full">{describeError(error)}</Alert>}
    </div>
  );
}
