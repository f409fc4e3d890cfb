/** The composer: one text for every chosen account, each account's own text and options,
 * media, a live count as each platform counts, the server's verdict per account as you type,
 * a preview per account, and when to publish, in the workspace's zone. The same form edits a
 * post that has not started (`editing`): its accounts, media, options and text. */
import { useEffect, useId, useMemo, useState } from "react";
import { Link, useNavigate } from "react-router";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardTitle } from "@/components/ui/card";
import { Textarea } from "@/components/ui/input";
import { EmptyState, ErrorState, Loading } from "@/components/ui/states";
import { PLATFORM_LABELS, type PlatformName } from "@/config/env";
import { useAccounts, type Account } from "@/features/accounts";
import { useWorkspaces, type Workspace } from "@/features/workspaces";
import { describeError } from "@/lib/api/errors";
import { useDebounced } from "@/lib/use-debounced";
import { cn } from "@/lib/utils";
import { useCreatePost, useEditPost, useValidateDraft, type Post } from "../api/posts";
import { countFor } from "../lib/counting";
import {
  editDraft,
  newTarget,
  stateOfPost,
  textOf,
  toDraft,
  toPatch,
  type ComposerState,
  type TargetDraft,
} from "../lib/draft";
import { readRefusal, readVerdict, type TargetProblem } from "../lib/validation-display";
import type { VideoFacts } from "./cover-frame";
import { MediaPicker, type Upload } from "./media-picker";
import { PlatformOptions } from "./platform-options";
import { PostPreviews, type PreviewMedia } from "./post-preview";
import { SaveDraftButton } from "./save-draft-button";
import { SchedulePicker } from "./schedule-picker";

function accountName(account: Account): string {
  return `${PLATFORM_LABELS[account.platform as PlatformName] ?? account.platform} @${account.username}`;
}

function CharCount({ platform, text, id }: { platform: PlatformName; text: string; id: string }) {
  const count = countFor(platform, text);
  return (
    <p id={id} className={cn("text-xs", count.over ? "font-semibold text-destructive" : "text-muted-foreground")}>
      {count.used.toLocaleString()} / {count.limit.toLocaleString()} {count.unit} as{" "}
      {PLATFORM_LABELS[platform]} counts them{count.over ? ` — ${(count.used - count.limit).toLocaleString()} over` : ""}
    </p>
  );
}

function TargetPanel({
  account,
  state,
  target,
  problem,
  checking,
  video,
  onChange,
}: {
  account: Account;
  state: ComposerState;
  target: TargetDraft;
  problem: TargetProblem | undefined;
  checking: boolean;
  video: VideoFacts | null;
  onChange: (next: TargetDraft) => void;
}) {
  const id = useId();
  const name = accountName(account);
  const platform = account.platform as PlatformName;
  return (
    <div className="grid gap-3 border-l-2 border-border pl-4" aria-label={`Settings for ${name}`} role="group">
      <CharCount platform={platform} text={textOf(state, target)} id={`${id}-count`} />
      <div id={`${id}-verdict`} aria-live="polite">
        {problem ? (
          <p className="text-sm text-destructive">
            <span className="font-semibold">{problem.title}:</span> {problem.detail}
          </p>
        ) : (
          !checking && <p className="text-sm text-success">Ready for {PLATFORM_LABELS[platform]}.</p>
        )}
      </div>
      <label className="flex min-h-9 items-center gap-2 text-sm">
        <input
          type="checkbox"
          className="size-4 accent-primary"
          checked={target.text !== null}
          onChange={(e) => onChange({ ...target, text: e.target.checked ? state.text : null })}
        />
        Own text for {name}
      </label>
      {target.text !== null && (
        <div className="grid gap-1">
          <label htmlFor={`${id}-text`} className="text-sm font-medium">
            Text for {name}
          </label>
          <Textarea
            id={`${id}-text`}
            value={target.text}
            aria-describedby={`${id}-count ${id}-verdict`}
            onChange={(e) => onChange({ ...target, text: e.target.value })}
          />
        </div>
      )}
      <PlatformOptions target={target} name={name} onChange={onChange} video={video} />
    </div>
  );
}

/** A post being edited: the post, and its media as the picker lists them. */
export type Editing = { post: Post; uploads: Upload[]; onDone: () => void };

/** The media as the previews draw them (blob: addresses of files picked in this tab). */
function previewMedia(uploads: Upload[]): PreviewMedia[] {
  return uploads.flatMap((u) =>
    u.media
      ? [{ key: u.key, kind: u.kind, src: u.preview, width: u.media.width, height: u.media.height, durationS: u.media.duration_s }]
      : [],
  );
}

export function ComposerForm({
  workspace,
  accounts,
  editing,
}: {
  workspace: Workspace;
  accounts: Account[];
  editing?: Editing;
}) {
  const textId = useId();
  const navigate = useNavigate();
  const [initial] = useState(() => (editing ? stateOfPost(editing.post) : null));
  const [text, setText] = useState(initial?.text ?? "");
  const [uploads, setUploads] = useState<Upload[]>(editing?.uploads ?? []);
  const [targets, setTargets] = useState<TargetDraft[]>(initial?.targets ?? []);
  const [timing, setTiming] = useState<{ timing: "now" | "later"; wall: string }>({ timing: "now", wall: "" });
  const create = useCreatePost(workspace.id);
  const edit = useEditPost(workspace.id);
  const send = editing ? edit : create;

  const mediaKey = uploads.flatMap((u) => (u.media ? [u.media.id] : [])).join(",");
  const mediaIds = useMemo(() => (mediaKey ? mediaKey.split(",") : []), [mediaKey]);
  const uploading = uploads.some((u) => !u.media && !u.error);
  const state: ComposerState = { text, mediaIds, targets, ...timing };
  const post = editing?.post;
  const draft = useMemo(() => {
    if (!targets.length) return null;
    const all = { text, mediaIds, targets, ...timing };
    return post ? editDraft(post, all) : toDraft(workspace.id, all);
  }, [workspace.id, post, text, mediaIds, targets, timing]);
  const settledDraft = useDebounced(draft, 350);
  const validation = useValidateDraft(settledDraft);
  const checking = draft !== settledDraft || validation.isFetching;
  // What the server said when it was sent wins until the draft changes.
  const refusal = readRefusal(send.error);
  const resetSend = send.reset;
  useEffect(() => resetSend(), [draft, resetSend]);
  const verdict = refusal ?? readVerdict(validation.data, validation.error);

  const needsApproval = workspace.require_approval && workspace.role === "editor";
  const action = post
    ? needsApproval || post.approval === "rejected"
      ? "Save and resubmit"
      : "Save changes"
    : needsApproval
      ? "Submit for approval"
      : timing.timing === "now"
        ? "Publish now"
        : "Schedule";
  const known = verdict && (!checking || refusal !== null);
  const blocked = !draft || uploading || (known && !verdict.valid);
  const firstVideo = uploads.find((u) => u.kind === "video" && u.media);
  const video: VideoFacts | null = firstVideo
    ? { durationS: firstVideo.media?.duration_s ?? null, src: firstVideo.preview }
    : null;
  const names = new Map(accounts.map((a) => [a.id, a.username]));

  const toggle = (account: Account, on: boolean) =>
    setTargets((all) =>
      on
        ? [...all, newTarget(account.id, account.platform as PlatformName)]
        : all.filter((t) => t.accountId !== account.id),
    );

  const submit = () => {
    if (!draft) return;
    if (editing) {
      const patch = toPatch(editing.post, { text, mediaIds, targets, ...timing });
      edit.mutate({ postId: editing.post.id, patch }, { onSuccess: editing.onDone });
      return;
    }
    create.mutate(draft, {
      onSuccess: (post) => navigate(`/w/${workspace.id}/posts/${post.id}`),
    });
  };

  return (
    <form
      className="grid gap-6"
      aria-label={editing ? "Edit the post" : "Compose a post"}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <Card aria-labelledby={`${textId}-title`}>
        <CardTitle id={`${textId}-title`}>Post</CardTitle>
        <div className="mt-3 grid gap-2">
          <label htmlFor={textId} className="text-sm font-medium">
            Text
          </label>
          <Textarea id={textId} value={text} onChange={(e) => setText(e.target.value)} className="min-h-36" />
          <p className="text-xs text-muted-foreground">
            Every chosen account publishes this text unless you give it its own below.
          </p>
        </div>
        <div className="mt-4">
          <MediaPicker workspaceId={workspace.id} uploads={uploads} onChange={setUploads} />
        </div>
      </Card>

      <Card aria-labelledby={`${textId}-accounts`}>
        <CardTitle id={`${textId}-accounts`}>Accounts</CardTitle>
        <ul className="mt-3 grid gap-4" aria-label="Publish to">
          {accounts.map((account) => {
            const target = targets.find((t) => t.accountId === account.id);
            const usable = account.status === "active";
            return (
              <li key={account.id} className="grid gap-3">
                <label className="flex min-h-9 items-center gap-2">
                  <input
                    type="checkbox"
                    className="size-4 accent-primary"
                    checked={!!target}
                    disabled={!usable && !target}
                    onChange={(e) => toggle(account, e.target.checked)}
                  />
                  <span className="font-medium">{accountName(account)}</span>
                  {!usable && <span className="text-sm text-warning">(needs reconnecting)</span>}
                </label>
                {target && (
                  <TargetPanel
                    account={account}
                    state={state}
                    target={target}
                    problem={known ? verdict.targets[account.id] : undefined}
                    checking={!known}
                    video={video}
                    onChange={(next) => setTargets((all) => all.map((t) => (t.accountId === account.id ? next : t)))}
                  />
                )}
              </li>
            );
          })}
        </ul>
      </Card>

      <Card aria-labelledby={`${textId}-preview`}>
        <CardTitle id={`${textId}-preview`}>Preview</CardTitle>
        <div className="mt-3">
          <PostPreviews
            media={previewMedia(uploads)}
            targets={targets.map((t) => ({
              accountId: t.accountId,
              username: names.get(t.accountId) ?? "",
              text: textOf(state, t),
              options: t.options,
            }))}
          />
        </div>
      </Card>

      {editing ? (
        <p className="text-sm text-muted-foreground">
          The post keeps its time (change it with Reschedule); a time that has passed while it
          waited becomes "as soon as it may".
        </p>
      ) : (
        <Card aria-labelledby={`${textId}-when`}>
          <CardTitle id={`${textId}-when`} className="sr-only">
            When
          </CardTitle>
          <SchedulePicker
            zone={workspace.timezone}
            timing={timing.timing}
            wall={timing.wall}
            problem={known ? verdict.schedule : null}
            dueAt={known ? verdict.scheduledAt : null}
            onChange={setTiming}
          />
        </Card>
      )}

      <div className="grid gap-3">
        <div aria-live="polite" className="text-sm">
          {!draft && <p className="text-muted-foreground">Choose at least one account.</p>}
          {draft && checking && <p className="text-muted-foreground">Checking with each platform's rules…</p>}
          {uploading && <p className="text-muted-foreground">Waiting for the uploads to finish…</p>}
          {known && verdict.general && <Alert>{verdict.general}</Alert>}
          {known && !verdict.valid && !verdict.general && (
            <p className="text-destructive">Fix what is marked above to {action.toLowerCase()}.</p>
          )}
          {known && verdict.valid && (
            <p className="text-success">
              Ready.{needsApproval && " An admin of this workspace approves it before it is published."}
            </p>
          )}
        </div>
        {send.isError && !refusal && <Alert>{describeError(send.error)}</Alert>}
        <div className="flex flex-wrap gap-2">
          <Button type="submit" disabled={!!blocked || send.isPending}>
            {send.isPending ? "Sending…" : action}
          </Button>
          <SaveDraftButton workspaceId={workspace.id} draft={draft} disabled={uploading || create.isPending} />
        </div>
      </div>
    </form>
  );
}

export function Composer({ workspaceId }: { workspaceId: string }) {
  const workspaces = useWorkspaces();
  const accounts = useAccounts(workspaceId);
  if (workspaces.isPending || accounts.isPending) return <Loading label="Loading the composer…" />;
  if (workspaces.isError) return <ErrorState error={workspaces.error} onRetry={() => void workspaces.refetch()} />;
  if (accounts.isError) return <ErrorState error={accounts.error} onRetry={() => void accounts.refetch()} />;
  const workspace = workspaces.data.find((w) => w.id === workspaceId);
  if (!workspace) return <EmptyState title="This workspace is not yours" />;
  if (workspace.role === "viewer")
    return <EmptyState title="Viewers cannot compose">Ask an admin of the workspace for the editor role.</EmptyState>;
  const usable = accounts.data.filter((a) => a.status !== "disconnected");
  if (usable.length === 0)
    return (
      <EmptyState title="No accounts to publish to">
        <Link className="text-primary underline" to={`/w/${workspaceId}/accounts`}>
          Connect an account
        </Link>{" "}
        first.
      </EmptyState>
    );
  return <ComposerForm workspace={workspace} accounts={usable} />;
}
