import { useParams } from "react-router";
import { ApprovalQueue } from "@/features/posts";

export function ApprovalsRoute() {
  const { workspaceId = "" } = useParams();
  return (
    <>
      <h1 className="mb-4 text-2xl font-semibold">Approvals</h1>
      <ApprovalQueue key={workspaceId} workspaceId={workspaceId} />
    </>
  );
}
