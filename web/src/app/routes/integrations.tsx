import { useParams } from "react-router";
import { ErrorState, Loading } from "@/components/ui/states";
import { IntegrationsPanel } from "@/features/integrations";
import { useWorkspaces } from "@/features/workspaces";

export function IntegrationsRoute() {
  const { workspaceId = "" } = useParams();
  const workspaces = useWorkspaces();
  const workspace = workspaces.data?.find((w) => w.id === workspaceId);
  return (
    <>
      <h1 className="mb-4 text-2xl font-semibold">Integrations</h1>
      {workspaces.isPending ? (
        <Loading label="Loading the workspace…" />
      ) : workspaces.isError ? (
        <ErrorState error={workspaces.error} onRetry={() => void workspaces.refetch()} />
      ) : workspace ? (
        <IntegrationsPanel key={workspaceId} workspace={workspace} />
      ) : (
        <ErrorState error={new Error("You are not a member of this workspace.")} />
      )}
    </>
  );
}
