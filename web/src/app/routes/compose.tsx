import { useParams } from "react-router";
import { Composer } from "@/features/posts";

export function ComposeRoute() {
  const { workspaceId = "" } = useParams();
  return (
    <>
      <h1 className="mb-4 text-2xl font-semibold">Compose</h1>
      <Composer key={workspaceId} workspaceId={workspaceId} />
    </>
  );
}
