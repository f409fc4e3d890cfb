export { IntegrationsPanel } from "./components/integrations-panel";
export { canManageIntegrations } from "./lib/integrations";
