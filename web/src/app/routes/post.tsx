import { useParams } from "react-router";
import { PostDetail } from "@/features/posts";

export function PostRoute() {
  const { workspaceId = "", postId = "" } = useParams();
  return (
    <>
      <h1 className="mb-4 text-2xl font-semibold">Post</h1>
      <PostDetail key={postId} workspaceId={workspaceId} postId={postId} />
    </>
  );
}
