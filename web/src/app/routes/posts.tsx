import { Link, useParams } from "react-router";
import { Button } from "@/components/ui/button";
import { PostList } from "@/features/posts";

export function PostsRoute() {
  const { workspaceId = "" } = useParams();
  return (
    <>
      <div className="mb-4 flex flex-wrap items-center justify-between gap-2">
        <h1 className="text-2xl font-semibold">Posts</h1>
        <Button asChild>
          <Link to={`/w/${workspaceId}/compose`}>Compose</Link>
        </Button>
      </div>
      <PostList key={workspaceId} workspaceId={workspaceId} />
    </>
  );
}
