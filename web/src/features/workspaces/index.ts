export { useWorkspaces, useUpdateWorkspace, workspacesQueryKey, type Workspace } from "./api/workspaces";
export { CreateWorkspaceForm } from "./components/create-workspace-form";
export { WorkspaceSwitcher } from "./components/workspace-switcher";
export { timeZones, browserTimeZone } from "./components/time-zone-select";
