/** The workspace's posts by scheduled time, filtered by status and account. */
import { useState } from "react";
import { Link } from "react-router";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { EmptyState, ErrorState, Loading } from "@/components/ui/states";
import { PLATFORM_LABELS, type PlatformName } from "@/config/env";
import { useAccounts } from "@/features/accounts";
import { useWorkspaces } from "@/features/workspaces";
import { usePostList } from "../api/posts";
import { formatInZone } from "../lib/zoned";
import { PostFilters, type Filters } from "./post-filters";
import { PostStatusBadge } from "./status-badge";

export function PostList({ workspaceId }: { workspaceId: string }) {
  const [filters, setFilters] = useState<Filters>({ status: "", accountId: "" });
  const workspaces = useWorkspaces();
  const accounts = useAccounts(workspaceId);
  const posts = usePostList(workspaceId, {
    status: filters.status || undefined,
    accountId: filters.accountId || undefined,
  });
  const zone = workspaces.data?.find((w) => w.id === workspaceId)?.timezone ?? "UTC";
  const items = posts.data?.pages.flatMap((p) => p.items) ?? [];
  const names = new Map((accounts.data ?? []).map((a) => [a.id, `@${a.username}`]));
  return (
    <div className="grid gap-4">
      <PostFilters accounts={accounts.data ?? []} value={filters} onChange={setFilters} />
      <p className="text-sm text-muted-foreground">Times in {zone}, the workspace's zone.</p>
      {posts.isPending && <Loading label="Loading posts…" />}
      {posts.isError && <ErrorState error={posts.error} onRetry={() => void posts.refetch()} />}
      {posts.isSuccess && items.length === 0 && (
        <EmptyState title={filters.status || filters.accountId ? "No posts match" : "No posts yet"}>
          <Link className="text-primary underline" to={`/w/${workspaceId}/compose`}>
            Compose one
          </Link>
        </EmptyState>
      )}
      {items.length > 0 && (
        <Card className="p-0 sm:p-0">
          <ul aria-label="Posts" className="divide-y divide-border">
            {items.map((post) => (
              <li key={post.id}>
                <Link
                  to={`/w/${workspaceId}/posts/${post.id}`}
                  className="grid gap-1 px-4 py-3 hover:bg-muted focus-visible:bg-muted focus-visible:outline-none sm:grid-cols-[11rem_1fr_auto] sm:items-center sm:gap-4"
                >
                  {post.scheduled_at ? (
                    <time dateTime={post.scheduled_at} className="text-sm text-muted-foreground">
                      {formatInZone(post.scheduled_at, zone)}
                    </time>
                  ) : (
                    <span className="text-sm text-muted-foreground">Draft, no time yet</span>
                  )}
                  <span className="min-w-0">
                    <span className="block truncate">{post.text || "(no text)"}</span>
                    <span className="block text-xs text-muted-foreground">
                      {post.targets
                        .map(
                          (t) =>
                            `${PLATFORM_LABELS[t.platform as PlatformName] ?? t.platform} ${names.get(t.account_id) ?? ""}`.trim(),
                        )
                        .join(", ")}
                    </span>
                  </span>
                  <PostStatusBadge status={post.status} />
                </Link>
              </li>
            ))}
          </ul>
        </Card>
      )}
      {posts.hasNextPage && (
        <Button
          variant="outline"
          className="justify-self-center"
          disabled={posts.isFetchingNextPage}
          onClick={() => void posts.fetchNextPage()}
        >
          {posts.isFetchingNextPage ? "Loading…" : "Show more posts"}
        </Button>
      )}
    </div>
  );
}
