import { useId } from "react";
import { useNavigate } from "react-router";
import { NativeSelect } from "@/components/ui/input";
import { useWorkspaces } from "../api/workspaces";

export const NEW_WORKSPACE = "__new__";

export function WorkspaceSwitcher({ current }: { current: string | undefined }) {
  const id = useId();
  const navigate = useNavigate();
  const { data } = useWorkspaces();
  return (
    <div className="flex items-center gap-2">
      <label htmlFor={id} className="sr-only">
        Workspace
      </label>
      <NativeSelect
        id={id}
        className="w-40 sm:w-auto sm:min-w-40 sm:max-w-56"
        value={current ?? ""}
        onChange={(event) => {
          const value = event.target.value;
          navigate(value === NEW_WORKSPACE ? "/workspaces/new" : `/w/${value}/accounts`);
        }}
      >
        {!current && <option value="">Choose a workspace</option>}
        {(data ?? []).map((ws) => (
          <option key={ws.id} value={ws.id}>
            {ws.name}
          </option>
        ))}
        <option value={NEW_WORKSPACE}>+ New workspace…</option>
      </NativeSelect>
    </div>
  );
}
