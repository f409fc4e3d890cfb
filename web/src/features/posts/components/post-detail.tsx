/** One post: each account's state in words, cancel while it has not started, retry what
 * failed. */
import { useId, useRef, useState } from "react";
import { Link, useNavigate } from "react-router";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardTitle } from "@/components/ui/card";
import { ErrorState, Loading } from "@/components/ui/states";
import { PLATFORM_LABELS, type PlatformName } from "@/config/env";
import { useAccounts } from "@/features/accounts";
import { useWorkspaces } from "@/features/workspaces";
import { describeError } from "@/lib/api/errors";
import { Input, Textarea } from "@/components/ui/input";
import {
  useCancelPost,
  useEditText,
  usePost,
  useReschedule,
  useRetryPost,
  type Post,
} from "../api/posts";
import { textEdit, textEditable } from "../lib/edit";
import { commentState, targetState } from "../lib/target-state";
import { formatInZone, wallTimeOf, wallTimeParam, zoneLabel } from "../lib/zoned";
import { DraftActions } from "./draft-actions";
import { EditPost } from "./edit-post";
import { PostStatusBadge } from "./status-badge";

const STARTED = new Set(["publishing", "in_doubt", "published", "failed"]);

function CancelButton({ post }: { post: Post }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useCancelPost(post.workspace_id, post.id);
  const navigate = useNavigate();
  // A draft is deleted (nothing of it was ever scheduled); a post is cancelled and kept.
  const draft = post.status === "draft";
  const verb = draft ? "Delete draft" : "Cancel post";
  return (
    <>
      <Button variant="outline" onClick={() => dialog.current?.showModal()}>
        {verb}
      </Button>
      <dialog
        ref={dialog}
        aria-labelledby={`cancel-${post.id}`}
        className="m-auto max-w-sm rounded-lg border border-border bg-card p-6 text-foreground backdrop:bg-black/50"
      >
        <h2 id={`cancel-${post.id}`} className="text-lg font-semibold">
          {draft ? "Delete this draft?" : "Cancel this post?"}
        </h2>
        <p className="mt-2 text-sm text-muted-foreground">
          {draft ? "It is deleted for good." : "No account will publish it."}
        </p>
        {cancel.isError && <Alert className="mt-3">{describeError(cancel.error)}</Alert>}
        <div className="mt-4 flex justify-end gap-2">
          <Button variant="outline" onClick={() => dialog.current?.close()}>
            Keep it
          </Button>
          <Button
            variant="destructive"
            disabled={cancel.isPending}
            onClick={() =>
              cancel.mutate(undefined, {
                onSuccess: () => {
                  dialog.current?.close();
                  if (draft) navigate(`/w/${post.workspace_id}/posts`);
                },
              })
            }
          >
            {verb}
          </Button>
        </div>
      </dialog>
    </>
  );
}

/** Move the post to another wall time in its zone (the calendar's drag, for the keyboard). */
function RescheduleForm({ post, zone }: { post: Post; zone: string }) {
  const id = useId();
  const [wall, setWall] = useState(() => (post.scheduled_at ? wallTimeOf(post.scheduled_at, zone) : ""));
  const reschedule = useReschedule(post.workspace_id);
  return (
    <form
      className="grid gap-2"
      aria-label="Reschedule"
      onSubmit={(e) => {
        e.preventDefault();
        reschedule.mutate({ postId: post.id, scheduledAt: wallTimeParam(wall) });
      }}
    >
      <label htmlFor={id} className="text-sm font-medium">
        New date and time in {zone}
      </label>
      <div className="flex flex-wrap gap-2">
        <Input
          id={id}
          type="datetime-local"
          className="max-w-64"
          value={wall}
          required
          aria-describedby={`${id}-zone`}
          onChange={(e) => setWall(e.target.value)}
        />
        <Button type="submit" variant="outline" disabled={reschedule.isPending}>
          Reschedule
        </Button>
      </div>
      <p id={`${id}-zone`} className="text-xs text-muted-foreground">
        Time zone: {zoneLabel(zone)}.
      </p>
      {reschedule.isError && <Alert>{describeError(reschedule.error)}</Alert>}
    </form>
  );
}

/** Change the text (a rejected post goes back for approval with it). */
function EditTextForm({ post }: { post: Post }) {
  const id = useId();
  const [text, setText] = useState(post.text);
  const edit = useEditText(post.workspace_id);
  const rejected = post.approval === "rejected";
  return (
    <form
      className="grid gap-2"
      aria-label="Edit text"
      onSubmit={(e) => {
        e.preventDefault();
        edit.mutate({ postId: post.id, patch: textEdit(post, text) });
      }}
    >
      <label htmlFor={id} className="text-sm font-medium">
        {rejected ? "Edit the text, then submit it again" : "Edit text"}
      </label>
      <Textarea id={id} value={text} onChange={(e) => setText(e.target.value)} aria-describedby={`${id}-hint`} />
      <p id={`${id}-hint`} className="text-xs text-muted-foreground">
        Accounts with their own text keep it. A post whose time has passed goes out as soon as it
        may.
      </p>
      {edit.isError && <Alert>{describeError(edit.error)}</Alert>}
      <div>
        <Button type="submit" variant={rejected ? "default" : "outline"} disabled={edit.isPending || text === post.text && !rejected}>
          {edit.isPending ? "Saving…" : rejected ? "Resubmit" : "Save text"}
        </Button>
      </div>
    </form>
  );
}

export function PostDetail({ workspaceId, postId }: { workspaceId: string; postId: string }) {
  const post = usePost(postId);
  const workspaces = useWorkspaces();
  const accounts = useAccounts(workspaceId);
  const retry = useRetryPost(workspaceId, postId);
  const navigate = useNavigate();
  const [editing, setEditing] = useState(false);
  if (post.isPending) return <Loading label="Loading the post…" />;
  if (post.isError) return <ErrorState error={post.error} onRetry={() => void post.refetch()} />;
  const data = post.data;
  const zone = data.timezone || workspaces.data?.find((w) => w.id === workspaceId)?.timezone || "UTC";
  const names = new Map((accounts.data ?? []).map((a) => [a.id, `@${a.username}`]));
  const cancellable =
    data.status !== "cancelled" && !data.targets.some((t) => STARTED.has(t.status));
  const failed = data.targets.filter((t) => t.status === "failed").length;
  return (
    <div className="grid gap-6">
      <Card aria-labelledby="post-title">
        <div className="flex flex-wrap items-center justify-between gap-2">
          <CardTitle id="post-title">
            {data.status === "draft" ? "Draft" : "Post"}
            {data.scheduled_at ? ` for ${formatInZone(data.scheduled_at, zone)}` : ", no time yet"}
          </CardTitle>
          <PostStatusBadge status={data.status} />
        </div>
        <p className="mt-1 text-sm text-muted-foreground">
          Times in {zone}. Created {formatInZone(data.created_at, zone)}.
        </p>
        {data.approval === "rejected" && data.rejection_reason && (
          <Alert className="mt-3">Rejected: {data.rejection_reason}</Alert>
        )}
        {data.approval === "pending" && (
          <Alert tone="info" className="mt-3">
            Waiting for an admin of the workspace to approve it.
          </Alert>
        )}
        <p className="mt-4 whitespace-pre-wrap break-words">{data.text || "(no text)"}</p>
        {data.media_ids.length > 0 && (
          <p className="mt-2 text-sm text-muted-foreground">{data.media_ids.length} media attached.</p>
        )}
      </Card>

      <Card aria-labelledby="targets-title">
        <CardTitle id="targets-title">Accounts</CardTitle>
        <ul aria-label="Accounts and their state" className="mt-2 divide-y divide-border">
          {data.targets.map((target) => {
            const state = targetState(target, data, zone);
            const platform = PLATFORM_LABELS[target.platform as PlatformName] ?? target.platform;
            return (
              <li key={target.id} className="grid gap-1 py-3">
                <div className="flex flex-wrap items-center justify-between gap-2">
                  <span className="font-medium">
                    {platform} {names.get(target.account_id) ?? ""}
                  </span>
                  <Badge tone={state.tone}>{state.label}</Badge>
                </div>
                {state.detail && (
                  <p className={state.tone === "danger" ? "text-sm text-destructive" : "text-sm text-muted-foreground"}>
                    {state.detail}
                  </p>
                )}
                {(() => {
                  const comment = commentState(target);
                  if (!comment) return null;
                  return (
                    <div className="flex flex-wrap items-center gap-2 text-sm">
                      <Badge tone={comment.tone}>{comment.label}</Badge>
                      {comment.detail && (
                        <span className={comment.tone === "danger" ? "text-destructive" : "text-muted-foreground"}>
                          {comment.detail}
                        </span>
                      )}
                    </div>
                  );
                })()}
                {target.url && (
                  <a href={target.url} target="_blank" rel="noreferrer noopener" className="text-sm text-primary underline">
                    View on {platform}
                  </a>
                )}
                {target.text !== data.text && (
                  <p className="text-sm text-muted-foreground">Own text: {target.text}</p>
                )}
              </li>
            );
          })}
        </ul>
      </Card>

      {textEditable(data) &&
        (editing ? (
          <section aria-labelledby="edit-title" className="grid gap-3">
            <div className="flex flex-wrap items-center justify-between gap-2">
              <h2 id="edit-title" className="text-lg font-semibold">
                Edit accounts, media and options
              </h2>
              <Button variant="ghost" onClick={() => setEditing(false)}>
                Close the editor
              </Button>
            </div>
            <EditPost post={data} onDone={() => setEditing(false)} />
          </section>
        ) : (
          <div>
            <Button variant="outline" onClick={() => setEditing(true)}>
              Edit accounts, media and options
            </Button>
          </div>
        ))}
      {textEditable(data) && !editing && (
        <Card aria-label="Edit the post's text">
          <EditTextForm key={`${data.text}|${data.approval}`} post={data} />
        </Card>
      )}
      {data.status === "draft" && <DraftActions post={data} zone={zone} />}
      {cancellable && (
        <Card aria-label={data.status === "draft" ? "Set the draft's time" : "Reschedule the post"}>
          <RescheduleForm key={data.scheduled_at ?? "none"} post={data} zone={zone} />
        </Card>
      )}
      {retry.isError && <Alert>{describeError(retry.error)}</Alert>}
      <div className="flex flex-wrap gap-2">
        {failed > 0 && (
          <Button disabled={retry.isPending} onClick={() => retry.mutate(undefined)}>
            {retry.isPending ? "Retrying…" : failed === 1 ? "Retry the failed account" : `Retry the ${failed} failed accounts`}
          </Button>
        )}
        {cancellable && <CancelButton post={data} />}
        <Button variant="ghost" onClick={() => navigate(`/w/${workspaceId}/posts`)}>
          All posts
        </Button>
        <Button variant="ghost" asChild>
          <Link to={`/w/${workspaceId}/compose`}>Compose another</Link>
        </Button>
      </div>
    </div>
  );
}
