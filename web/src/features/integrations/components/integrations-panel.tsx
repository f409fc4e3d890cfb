/** The Integrations page's body: webhooks and API keys for owners and admins; the others are
 * told why there is nothing for them (and nothing is asked of the server on their behalf). */
import { Alert } from "@/components/ui/alert";
import { Card, CardTitle } from "@/components/ui/card";
import type { Workspace } from "@/features/workspaces";
import { canManageIntegrations } from "../lib/integrations";
import { ApiKeysPanel } from "./api-keys-panel";
import { WebhooksPanel } from "./webhooks-panel";

export function IntegrationsPanel({ workspace }: { workspace: Workspace }) {
  if (!canManageIntegrations(workspace.role))
    return (
      <Alert tone="info">
        Webhooks and API keys are managed by this workspace's owners and admins; you are{" "}
        {workspace.role === "editor" ? "an editor" : `a ${workspace.role ?? "member"}`} here. Ask one of them on the
        Members page if you need a key or an endpoint.
      </Alert>
    );
  return (
    <div className="grid gap-6">
      <Card aria-labelledby="webhooks-title">
        <CardTitle id="webhooks-title">Webhooks</CardTitle>
        <p className="mt-1 mb-4 text-sm text-muted-foreground">
          SocialSeed POSTs this workspace's events to your endpoints, signed per Standard Webhooks,
          retried for about a day.
        </p>
        <WebhooksPanel workspaceId={workspace.id} zone={workspace.timezone} />
      </Card>
      <Card aria-labelledby="api-keys-title">
        <CardTitle id="api-keys-title">API keys</CardTitle>
        <p className="mt-1 mb-4 text-sm text-muted-foreground">
          For scripts and automation: a key acts in this workspace alone, with its role.
        </p>
        <ApiKeysPanel workspaceId={workspace.id} myRole={workspace.role ?? ""} zone={workspace.timezone} />
      </Card>
    </div>
  );
}
