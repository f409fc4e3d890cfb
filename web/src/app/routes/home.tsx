import { Navigate } from "react-router";
import { ErrorState, Loading } from "@/components/ui/states";
import { useWorkspaces } from "@/features/workspaces";

/** Signed in: the first workspace's accounts, or creating the first workspace. */
export function HomeRoute() {
  const workspaces = useWorkspaces();
  if (workspaces.isPending) return <Loading label="Loading your workspaces…" />;
  if (workspaces.isError)
    return <ErrorState error={workspaces.error} onRetry={() => void workspaces.refetch()} />;
  const first = workspaces.data[0];
  if (!first) return <Navigate to="/workspaces/new" replace />;
  return <Navigate to={`/w/${first.id}/accounts`} replace />;
}
