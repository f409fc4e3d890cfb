/** Editing a post that has not started: the composer's own form (`ComposerForm`), filled with
 * the post's accounts, media, options and text, sent as `PATCH /posts/{id}`. */
import { ErrorState, Loading } from "@/components/ui/states";
import { useAccounts } from "@/features/accounts";
import { useWorkspaces } from "@/features/workspaces";
import { useMediaFacts } from "../api/media";
import type { Post } from "../api/posts";
import { ComposerForm } from "./composer";
import type { Upload } from "./media-picker";

export function EditPost({ post, onDone }: { post: Post; onDone: () => void }) {
  const workspaces = useWorkspaces();
  const accounts = useAccounts(post.workspace_id);
  const media = useMediaFacts(post.media_ids);
  if (workspaces.isPending || accounts.isPending || (!media.data && !media.error))
    return <Loading label="Loading the post's accounts and media…" />;
  if (workspaces.isError) return <ErrorState error={workspaces.error} onRetry={() => void workspaces.refetch()} />;
  if (accounts.isError) return <ErrorState error={accounts.error} onRetry={() => void accounts.refetch()} />;
  if (media.error || !media.data) return <ErrorState error={media.error} onRetry={() => void media.refetch()} />;
  const workspace = workspaces.data.find((w) => w.id === post.workspace_id);
  if (!workspace) return <ErrorState error={new Error("This workspace is not yours.")} />;
  const uploads: Upload[] = media.data.map((m) => ({
    key: m.id,
    name: m.width && m.height ? `${m.kind} ${m.width}×${m.height}` : m.kind,
    kind: m.kind === "video" ? "video" : "image",
    preview: null,
    progress: 1,
    media: m,
    error: null,
  }));
  const targeted = new Set(post.targets.map((t) => t.account_id));
  const usable = accounts.data.filter((a) => a.status !== "disconnected" || targeted.has(a.id));
  return <ComposerForm workspace={workspace} accounts={usable} editing={{ post, uploads, onDone }} />;
}
