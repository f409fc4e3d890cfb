/** Save the composed post as a draft: never published, its time (if chosen) kept unchecked.
 * The accounts, media and each platform's rules are still checked, as for any post. */
import { useNavigate } from "react-router";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { describeError } from "@/lib/api/errors";
import { useCreatePost, type PostDraft } from "../api/posts";

export function SaveDraftButton({
  workspaceId,
  draft,
  disabled,
}: {
  workspaceId: string;
  /** The post as it would be published (null: nothing to save yet). */
  draft: PostDraft | null;
  disabled: boolean;
}) {
  const save = useCreatePost(workspaceId);
  const navigate = useNavigate();
  return (
    <>
      <Button
        type="button"
        variant="outline"
        disabled={!draft || disabled || save.isPending}
        onClick={() =>
          draft &&
          save.mutate(
            { ...draft, draft: true },
            { onSuccess: (post) => navigate(`/w/${workspaceId}/posts/${post.id}`) },
          )
        }
      >
        {save.isPending ? "Saving…" : "Save draft"}
      </Button>
      {save.isError && <Alert className="basis-full">{describeError(save.error)}</Alert>}
    </>
  );
}
