/** What a draft can become: scheduled at its time, published now, or — in a workspace whose
 * editors need approval — submitted for it. The server checks the time then (a draft's time
 * may have passed meanwhile) and answers in words. */
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardTitle } from "@/components/ui/card";
import { useWorkspaces } from "@/features/workspaces";
import { describeError } from "@/lib/api/errors";
import { useScheduleDraft, type Post } from "../api/posts";
import { formatInZone } from "../lib/zoned";

export function DraftActions({ post, zone }: { post: Post; zone: string }) {
  const workspaces = useWorkspaces();
  const schedule = useScheduleDraft(post.workspace_id);
  const workspace = workspaces.data?.find((w) => w.id === post.workspace_id);
  const needsApproval = !!workspace?.require_approval && workspace.role === "editor";
  const when = post.scheduled_at ? `${formatInZone(post.scheduled_at, zone)} (${zone})` : null;
  const busy = schedule.isPending;
  return (
    <Card aria-labelledby={`draft-${post.id}`}>
      <CardTitle id={`draft-${post.id}`}>This is a draft</CardTitle>
      <p className="mt-1 text-sm text-muted-foreground">
        Nothing is published until you {needsApproval ? "submit it and an admin approves it" : "schedule it"}.
        {when ? ` Its time: ${when}.` : " It has no time yet."}
      </p>
      {schedule.isError && <Alert className="mt-3">{describeError(schedule.error)}</Alert>}
      <div className="mt-3 flex flex-wrap gap-2">
        {needsApproval ? (
          <Button disabled={busy} onClick={() => schedule.mutate({ postId: post.id })}>
            {when ? `Submit for approval, for ${when}` : "Submit for approval, to publish once approved"}
          </Button>
        ) : (
          <>
            {when && (
              <Button disabled={busy} onClick={() => schedule.mutate({ postId: post.id })}>
                Schedule for {when}
              </Button>
            )}
            <Button
              variant={when ? "outline" : "default"}
              disabled={busy}
              onClick={() => schedule.mutate({ postId: post.id, scheduledAt: null })}
            >
              Publish now
            </Button>
          </>
        )}
      </div>
    </Card>
  );
}
