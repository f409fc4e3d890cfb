import { useNavigate } from "react-router";
import { Card, CardTitle } from "@/components/ui/card";
import { CreateWorkspaceForm } from "@/features/workspaces";

export function NewWorkspaceRoute() {
  const navigate = useNavigate();
  return (
    <Card className="mx-auto w-full max-w-lg" aria-labelledby="new-ws-title">
      <CardTitle id="new-ws-title">Create a workspace</CardTitle>
      <p className="mb-4 mt-1 text-sm text-muted-foreground">
        A workspace holds your team, connected accounts and posts.
      </p>
      <CreateWorkspaceForm onCreated={(ws) => navigate(`/w/${ws.id}/accounts`)} />
    </Card>
  );
}
