import { useParams } from "react-router";
import { AccountsPanel } from "@/features/accounts";

export function AccountsRoute() {
  const { workspaceId = "" } = useParams();
  return (
    <>
      <h1 className="mb-4 text-2xl font-semibold">Accounts</h1>
      <AccountsPanel key={workspaceId} workspaceId={workspaceId} />
    </>
  );
}
