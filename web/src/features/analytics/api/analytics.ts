import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "@/lib/api/client";
import { ApiError, toApiError } from "@/lib/api/errors";

export type Dashboard = Schemas["DashboardOut"];
export type SyncStatus = Schemas["SyncStatusOut"];
export type Sync = Schemas["SyncOut"];
export type Timeseries = Schemas["TimeseriesOut"];
export type BestTimes = Schemas["BestTimesOut"];
export type SyncAccepted = Schemas["SyncAccepted"];
export type Period = { from: string; to: string };
export type AccountMetric = Schemas["AccountMetric"];
export type Compare = Schemas["CompareOut"];
export type PostAnalytics = Schemas["PostDetailOut"];

const key = (workspaceId: string) => ["analytics", workspaceId] as const;

/** Totals per platform and account and the top posts of the period. While nothing is
 * tracked yet (a new account's backfill), it asks again every few seconds. */
export function useDashboard(workspaceId: string, period: Period) {
  return useQuery({
    queryKey: [...key(workspaceId), "dashboard", period],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/analytics/dashboard", {
          params: { query: { workspace_id: workspaceId, from: period.from, to: period.to } },
          signal,
        }),
      ),
    refetchInterval: (query) => (query.state.data && query.state.data.top_posts.length > 0 ? false : 5000),
  });
}

export function useTimeseries(accountId: string | undefined, period: Period, metric: AccountMetric = "followers") {
  return useQuery({
    queryKey: ["analytics", "timeseries", accountId, metric, period],
    enabled: Boolean(accountId),
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/analytics/accounts/{account_id}/timeseries", {
          params: {
            path: { account_id: accountId ?? "" },
            query: { metric, interval: "day", from: period.from, to: period.to },
          },
          signal,
        }),
      ),
    // A new account's first count arrives with its backfill: ask again until one is there.
    refetchInterval: (query) => (query.state.data?.buckets.some((b) => b.value != null) ? false : 5000),
  });
}

export function useBestTimes(workspaceId: string, period: Period) {
  return useQuery({
    queryKey: [...key(workspaceId), "best-times", period],
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/analytics/insights/best-times", {
          params: { query: { workspace_id: workspaceId, from: period.from, to: period.to } },
          signal,
        }),
      ),
  });
}

/** The accounts side by side over the period (every metric the API has for them). */
export function useCompare(accountIds: string[], period: Period) {
  return useQuery({
    queryKey: ["analytics", "compare", accountIds, period],
    enabled: accountIds.length > 0,
    queryFn: ({ signal }) =>
      unwrap(
        api.GET("/api/v1/analytics/compare", {
          params: { query: { account_ids: accountIds.join(","), from: period.from, to: period.to } },
          signal,
        }),
      ),
    // An account whose first counters are still being fetched: ask again until they are in.
    refetchInterval: (query) => (query.state.data?.accounts.some((a) => a.account.last_synced_at == null) ? 5000 : false),
  });
}

/** One published post's numbers per account (a publisher post id), with each fetch's
 * history; a post not published or not tracked yet is a 404 (`PostNotFound`). A tracked post
 * is first fetched a while after publishing (minutes): until then its targets have no
 * `fetched_at`. */
export function usePostAnalytics(postId: string, enabled = true) {
  return useQuery({
    queryKey: ["analytics", "post", postId],
    enabled,
    retry: false,
    queryFn: ({ signal }) =>
      // Revalidated on every ask (If-None-Match): the answer's max-age must not hide the
      // first numbers from a page that is waiting for them.
      unwrap(api.GET("/api/v1/analytics/posts/{post_id}", { params: { path: { post_id: postId } }, signal, cache: "no-cache" })),
    // Not tracked yet, or tracked and not fetched yet: ask again until its first numbers (or
    // the platform's reason for having none) are there.
    refetchInterval: (query) => {
      if (query.state.error instanceof ApiError && query.state.error.status === 404) return 5000;
      return query.state.data?.targets.some((t) => t.fetched_at == null && t.gap == null) ? 10_000 : false;
    },
  });
}

/** Each account's last and next fetch; followed every few seconds while posts are due. */
export function useSyncStatus(workspaceId: string) {
  return useQuery({
    queryKey: [...key(workspaceId), "sync-status"],
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/analytics/sync-status", { params: { query: { workspace_id: workspaceId } }, signal })),
    refetchInterval: (query) =>
      query.state.data?.accounts.some((a) => a.due_posts > 0 || a.last_synced_at == null) ? 5000 : 30000,
  });
}

/** One sync's progress, followed until it ends. */
export function useSync(syncId: string | undefined) {
  return useQuery({
    queryKey: ["analytics", "sync", syncId],
    enabled: Boolean(syncId),
    queryFn: ({ signal }) =>
      unwrap(api.GET("/api/v1/analytics/sync/{sync_id}", { params: { path: { sync_id: syncId ?? "" } }, signal })),
    refetchInterval: (query) =>
      query.state.data && !["queued", "running"].includes(query.state.data.status) ? false : 2000,
  });
}

/** A refusal that says when to try again (429's `Retry-After`). */
export class RetryLater extends ApiError {
  readonly retryAt: Date;

  constructor(error: ApiError, retryAt: Date) {
    super(error.status, error.code, error.message);
    this.retryAt = retryAt;
  }
}

/** Fetch every account's metrics now (429 RefreshTooSoon when one ran a moment ago). */
export function useRefresh(workspaceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async () => {
      const { data, error, response } = await api.POST("/api/v1/analytics/refresh", {
        body: { workspace_id: workspaceId },
      });
      if (response.ok && data) return data;
      const failure = toApiError(response.status, error);
      const seconds = Number(response.headers.get("Retry-After"));
      throw Number.isFinite(seconds) && seconds > 0 ? new RetryLater(failure, new Date(Date.now() + seconds * 1000)) : failure;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: key(workspaceId) }),
  });
}

/** Fetch one account's metrics now (the same refusals, for that account). */
export function useRefreshAccount(workspaceId: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (accountId: string) => {
      const { data, error, response } = await api.POST("/api/v1/analytics/refresh/{account_id}", {
        params: { path: { account_id: accountId } },
        body: {},
      });
      if (response.ok && data) return data;
      const failure = toApiError(response.status, error);
      const seconds = Number(response.headers.get("Retry-After"));
      throw Number.isFinite(seconds) && seconds > 0 ? new RetryLater(failure, new Date(Date.now() + seconds * 1000)) : failure;
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: key(workspaceId) }),
  });
}

/** The export (it needs the bearer token, so it is fetched with the client) saved as a file
 * through a Blob URL. */
export async function downloadExport(workspaceId: string, format: "csv" | "json", period: Period, fileName: string) {
  const { data, response, error } = await api.GET("/api/v1/analytics/export", {
    params: { query: { workspace_id: workspaceId, format, from: period.from, to: period.to } },
    parseAs: "blob",
  });
  if (!response.ok || !(data instanceof Blob)) throw toApiError(response.status, error);
  saveBlob(data, fileName);
}

/** The period's report (a PDF to send, or its totals as CSV), saved as the export is. */
export async function downloadReport(workspaceId: string, format: "pdf" | "csv", period: Period, fileName: string) {
  const { data, response, error } = await api.GET("/api/v1/analytics/report", {
    params: { query: { workspace_id: workspaceId, format, from: period.from, to: period.to } },
    parseAs: "blob",
  });
  if (!response.ok || !(data instanceof Blob)) throw toApiError(response.status, error);
  saveBlob(data, fileName);
}

function saveBlob(blob: Blob, fileName: string) {
  const url = URL.createObjectURL(blob);
  try {
    const link = document.createElement("a");
    link.href = url;
    link.download = fileName;
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
}
