/**
 * A post's own numbers, on its page: per account the latest values the platform reports (a
 * number the platform has not is left out, never shown as 0), when they were fetched, why the
 * last fetch had none (`gap`), and its engagements over the fetches. Asked once an account
 * has published it; until its first fetch the API answers 404: the section says so and asks
 * again.
 */
import { Card, CardTitle } from "@/components/ui/card";
import { EmptyState, ErrorState, Loading } from "@/components/ui/states";
import { ApiError } from "@/lib/api/errors";
import { usePostAnalytics, type PostAnalytics as Detail } from "../api/analytics";
import { inZone, METRIC_NAMES, metricValue } from "../lib/series";
import { LineChart } from "./charts";

const SHOWN = [
  "views",
  "impressions",
  "reach",
  "likes",
  "comments",
  "shares",
  "saves",
  "clicks",
  "video_views",
  "watch_time_s",
  "engagements",
  "engagement_rate",
] as const;
const PLATFORMS: Record<string, string> = { x: "X", instagram: "Instagram", facebook: "Facebook", linkedin: "LinkedIn", youtube: "YouTube", tiktok: "TikTok" };

export function PostAnalytics({ postId, zone, published }: { postId: string; zone: string; published: boolean }) {
  const analytics = usePostAnalytics(postId, published);
  const notYet = analytics.error instanceof ApiError && analytics.error.status === 404;
  return (
    <section aria-labelledby="post-analytics-heading" className="mt-8">
      <h2 id="post-analytics-heading" className="mb-2 text-lg font-semibold">
        Analytics
      </h2>
      {!published ? (
        <p className="text-sm text-muted-foreground">Its numbers appear here once it is published and first fetched.</p>
      ) : analytics.isPending ? (
        <Loading label="Loading the post's numbers…" />
      ) : notYet ? (
        <EmptyState title="No numbers yet">
          They appear here once the post is published and its first numbers are fetched (this page asks again).
        </EmptyState>
      ) : analytics.isError ? (
        <ErrorState error={analytics.error} onRetry={() => void analytics.refetch()} />
      ) : (
        <ul className="grid gap-3">
          {analytics.data.targets.map((t) => (
            <TargetNumbers key={t.id} target={t} zone={zone} />
          ))}
        </ul>
      )}
    </section>
  );
}

function TargetNumbers({ target: t, zone }: { target: Detail["targets"][number]; zone: string }) {
  const platform = PLATFORMS[t.platform] ?? t.platform;
  const metrics = t.metrics as Record<string, number | null | undefined>;
  const shown = SHOWN.filter((m) => metrics[m] != null);
  const points = t.history.map((h) => ({
    label: inZone(h.fetched_at, zone, "d MMM HH:mm"),
    value: (h.metrics as Record<string, number | null | undefined>).engagements ?? null,
  }));
  const known = points.filter((p) => p.value != null);
  return (
    <li>
      <Card aria-label={`${platform} numbers`} className="sm:p-4">
        <CardTitle className="text-base">{platform}</CardTitle>
        <p className="text-sm text-muted-foreground">
          {t.fetched_at ? `Fetched ${inZone(t.fetched_at, zone)} (${zone})` : "Not fetched yet"}
          {t.url && (
            <>
              {" · "}
              <a className="text-primary underline" href={t.url} target="_blank" rel="noreferrer noopener">
                Open on {platform}
              </a>
            </>
          )}
        </p>
        {t.gap && <p className="mt-1 text-sm">The last fetch had no numbers: {t.gap}</p>}
        {shown.length > 0 && (
          <dl className="mt-2 grid grid-cols-2 gap-2 text-sm sm:grid-cols-4">
            {shown.map((m) => (
              <div key={m}>
                <dt className="text-muted-foreground">{METRIC_NAMES[m]}</dt>
                <dd className="text-xl font-semibold" data-metric={m}>
                  {metricValue(m, metrics[m])}
                </dd>
              </div>
            ))}
          </dl>
        )}
        {known.length >= 2 && (
          <figure className="m-0 mt-3 min-w-0 text-primary" data-testid="post-history-chart">
            <LineChart
              points={points}
              name="engagements"
              label={`Engagements on ${platform} over ${known.length} fetches: ${known[0]?.value} at first, ${known.at(-1)?.value} at the last`}
            />
            <figcaption className="mt-1 text-xs text-foreground">Engagements at each fetch, in {zone}</figcaption>
          </figure>
        )}
      </Card>
    </li>
  );
}
