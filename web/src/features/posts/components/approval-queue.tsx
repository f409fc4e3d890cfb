/** Posts waiting for approval, oldest time first: text, accounts, author, time in the
 * workspace's zone; Approve, or Reject with a reason the author reads on the post page. */
import { useId, useRef, useState } from "react";
import { Link } from "react-router";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { Textarea } from "@/components/ui/input";
import { EmptyState, ErrorState, Loading } from "@/components/ui/states";
import { PLATFORM_LABELS, type PlatformName } from "@/config/env";
import { useAccounts } from "@/features/accounts";
import { useMe } from "@/features/auth";
import { useMembers } from "@/features/members";
import { useWorkspaces } from "@/features/workspaces";
import { describeError } from "@/lib/api/errors";
import { useApprove, usePostList, useReject, type Post } from "../api/posts";
import { formatInZone } from "../lib/zoned";

function RejectButton({
  post,
  label,
  onDone,
}: {
  post: Post;
  label: string;
  onDone: (message: string) => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const reject = useReject(post.workspace_id);
  const id = useId();
  const [reason, setReason] = useState("");
  return (
    <>
      <Button variant="outline" aria-label={`Reject ${label}`} onClick={() => dialog.current?.showModal()}>
        Reject
      </Button>
      <dialog
        ref={dialog}
        aria-labelledby={`${id}-title`}
        className="m-auto w-[min(28rem,calc(100vw-2rem))] rounded-lg border border-border bg-card p-6 text-foreground backdrop:bg-black/50"
      >
        <form
          className="grid gap-3"
          onSubmit={(e) => {
            e.preventDefault();
            reject.mutate(
              { postId: post.id, reason: reason.trim() },
              {
                onSuccess: () => {
                  dialog.current?.close();
                  onDone(`Rejected ${label}.`);
                },
              },
            );
          }}
        >
          <h2 id={`${id}-title`} className="text-lg font-semibold">
            Reject this post?
          </h2>
          <label htmlFor={id} className="text-sm font-medium">
            Reason for the author
          </label>
          <Textarea
            id={id}
            required
            maxLength={2000}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            aria-describedby={`${id}-hint`}
          />
          <p id={`${id}-hint`} className="text-xs text-muted-foreground">
            The author reads it on the post's page, edits the post and submits it again.
          </p>
          {reject.isError && <Alert>{describeError(reject.error)}</Alert>}
          <div className="flex justify-end gap-2">
            <Button type="button" variant="outline" onClick={() => dialog.current?.close()}>
              Keep it waiting
            </Button>
            <Button type="submit" variant="destructive" disabled={reject.isPending || !reason.trim()}>
              Reject
            </Button>
          </div>
        </form>
      </dialog>
    </>
  );
}

function QueueItem({
  post,
  zone,
  accountNames,
  authorName,
  mine,
  onDone,
}: {
  post: Post;
  zone: string;
  accountNames: Map<string, string>;
  authorName: string;
  mine: boolean;
  onDone: (message: string) => void;
}) {
  const approve = useApprove(post.workspace_id);
  // A post waiting for approval always has a time (a draft gets one when it is submitted).
  const due = post.scheduled_at ?? post.created_at;
  const when = formatInZone(due, zone);
  const [shownAt] = useState(Date.now);
  const late = new Date(due).getTime() <= shownAt;
  const accounts = post.targets
    .filter((t) => t.status !== "cancelled")
    .map((t) => `${PLATFORM_LABELS[t.platform as PlatformName] ?? t.platform} ${accountNames.get(t.account_id) ?? ""}`.trim());
  const label = `the post by ${authorName} for ${when}`;
  return (
    <li className="grid gap-2 px-4 py-4" aria-label={`Post by ${authorName}`}>
      <div className="flex flex-wrap items-baseline justify-between gap-2 text-sm text-muted-foreground">
        <span>
          By <span className="font-medium text-foreground">{authorName}</span>
          {mine && " (you)"}
        </span>
        <time dateTime={due}>
          {late ? `Was due ${when} — publishes once approved` : `For ${when}`}
        </time>
      </div>
      <p className="whitespace-pre-wrap break-words">{post.text || "(no text)"}</p>
      <p className="text-xs text-muted-foreground">{accounts.join(", ")}</p>
      {approve.isError && <Alert>{describeError(approve.error)}</Alert>}
      <div className="flex flex-wrap gap-2">
        <Button
          aria-label={`Approve ${label}`}
          disabled={approve.isPending}
          onClick={() => approve.mutate(post.id, { onSuccess: () => onDone(`Approved ${label}.`) })}
        >
          {approve.isPending ? "Approving…" : "Approve"}
        </Button>
        <RejectButton post={post} label={label} onDone={onDone} />
        <Button variant="ghost" asChild>
          <Link to={`/w/${post.workspace_id}/posts/${post.id}`}>Open</Link>
        </Button>
      </div>
    </li>
  );
}

export function ApprovalQueue({ workspaceId }: { workspaceId: string }) {
  const workspaces = useWorkspaces();
  const accounts = useAccounts(workspaceId);
  const members = useMembers(workspaceId, { fresh: true });
  const me = useMe();
  const posts = usePostList(workspaceId, { status: "pending_approval" });
  const workspace = workspaces.data?.find((w) => w.id === workspaceId);
  const zone = workspace?.timezone ?? "UTC";
  const items = posts.data?.pages.flatMap((p) => p.items) ?? [];
  const accountNames = new Map((accounts.data ?? []).map((a) => [a.id, `@${a.username}`]));
  const people = new Map((members.data ?? []).map((m) => [m.user_id, m.name || m.email]));
  const [done, setDone] = useState<string | null>(null);
  return (
    <div className="grid gap-4">
      <p className="text-sm text-muted-foreground">
        Times in {zone}, the workspace's zone.
        {workspace && !workspace.require_approval &&
          " This workspace does not require approval now; posts still waiting are listed here."}
      </p>
      {done && <Alert tone="info">{done}</Alert>}
      {posts.isPending && <Loading label="Loading the posts waiting for approval…" />}
      {posts.isError && <ErrorState error={posts.error} onRetry={() => void posts.refetch()} />}
      {posts.isSuccess && items.length === 0 && (
        <EmptyState title="Nothing waiting for approval">
          Posts editors submit appear here.
        </EmptyState>
      )}
      {items.length > 0 && (
        <Card className="p-0 sm:p-0">
          <ul aria-label="Posts waiting for approval" className="divide-y divide-border">
            {items.map((post) => (
              <QueueItem
                key={post.id}
                post={post}
                zone={zone}
                accountNames={accountNames}
                authorName={people.get(post.author_id) ?? (members.isSuccess ? "a former member" : "a member")}
                mine={post.author_id === me.data?.id}
                onDone={setDone}
              />
            ))}
          </ul>
        </Card>
      )}
      {posts.hasNextPage && (
        <Button variant="outline" disabled={posts.isFetchingNextPage} onClick={() => void posts.fetchNextPage()}>
          {posts.isFetchingNextPage ? "Loading…" : "More"}
        </Button>
      )}
    </div>
  );
}
