import { useParams } from "react-router";
import { PostAnalytics } from "@/features/analytics";
import { PostDetail, usePost } from "@/features/posts";
import { useWorkspaces } from "@/features/workspaces";

export function PostRoute() {
  const { workspaceId = "", postId = "" } = useParams();
  const zone = useWorkspaces().data?.find((w) => w.id === workspaceId)?.timezone;
  // The same query PostDetail follows (one request): numbers are asked once something is published.
  const published = usePost(postId).data?.targets.some((t) => t.status === "published") ?? false;
  return (
    <>
      <h1 className="mb-4 text-2xl font-semibold">Post</h1>
      <PostDetail key={postId} workspaceId={workspaceId} postId={postId} />
      {zone && <PostAnalytics key={`analytics-${postId}`} postId={postId} zone={zone} published={published} />}
    </>
  );
}
