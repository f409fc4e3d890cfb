import { useRef, useState } from "react";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardTitle } from "@/components/ui/card";
import { EmptyState, ErrorState, Loading } from "@/components/ui/states";
import { PLATFORM_LABELS, PLATFORMS, type PlatformName } from "@/config/env";
import { describeError } from "@/lib/api/errors";
import {
  useAccounts,
  useDisconnect,
  useStartConnect,
  type Account,
} from "../api/accounts";
import { StatusBadge } from "./status-badge";

function label(platform: string): string {
  return PLATFORM_LABELS[platform as PlatformName] ?? platform;
}

function ConnectButtons({ workspaceId }: { workspaceId: string }) {
  const connect = useStartConnect();
  return (
    <Card aria-labelledby="connect-title">
      <CardTitle id="connect-title">Connect an account</CardTitle>
      <p className="mt-1 text-sm text-muted-foreground">
        You will be sent to the platform to allow SocialSeed, then brought back here.
      </p>
      {connect.isError && <Alert className="mt-3">{describeError(connect.error)}</Alert>}
      <div className="mt-4 grid grid-cols-2 gap-2 sm:grid-cols-3">
        {PLATFORMS.map((platform) => (
          <Button
            key={platform}
            variant="outline"
            disabled={connect.isPending}
            onClick={() => connect.mutate({ workspaceId, platform })}
          >
            Connect {PLATFORM_LABELS[platform]}
          </Button>
        ))}
      </div>
    </Card>
  );
}

function DisconnectButton({ account, workspaceId }: { account: Account; workspaceId: string }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const disconnect = useDisconnect(workspaceId);
  const name = `${label(account.platform)} @${account.username}`;
  return (
    <>
      <Button variant="ghost" size="sm" onClick={() => dialog.current?.showModal()}>
        Disconnect<span className="sr-only"> {name}</span>
      </Button>
      {/* A native modal dialog: focus trapped, Escape closes, no injected styles (CSP). */}
      <dialog
        ref={dialog}
        aria-labelledby={`disconnect-${account.id}`}
        className="m-auto max-w-sm rounded-lg border border-border bg-card p-6 text-foreground backdrop:bg-black/50"
      >
        <h2 id={`disconnect-${account.id}`} className="text-lg font-semibold">
          Disconnect {name}?
        </h2>
        <p className="mt-2 text-sm text-muted-foreground">
          Scheduled posts for this account will not be published.
        </p>
        {disconnect.isError && <Alert className="mt-3">{describeError(disconnect.error)}</Alert>}
        <div className="mt-4 flex justify-end gap-2">
          <Button variant="outline" onClick={() => dialog.current?.close()}>
            Cancel
          </Button>
          <Button
            variant="destructive"
            disabled={disconnect.isPending}
            onClick={() =>
              disconnect.mutate(account.id, { onSuccess: () => dialog.current?.close() })
            }
          >
            Disconnect
          </Button>
        </div>
      </dialog>
    </>
  );
}

function AccountRow({ account, workspaceId }: { account: Account; workspaceId: string }) {
  const reconnect = useStartConnect();
  return (
    <li className="flex flex-wrap items-center justify-between gap-3 py-3">
      <div className="min-w-0">
        <p className="truncate font-medium">
          {account.display_name || account.username}{" "}
          <span className="text-muted-foreground">@{account.username}</span>
        </p>
        <p className="text-sm text-muted-foreground">{label(account.platform)}</p>
      </div>
      <div className="flex items-center gap-2">
        <StatusBadge status={account.status} />
        {account.status !== "active" && (
          <Button
            variant="outline"
            size="sm"
            onClick={() =>
              reconnect.mutate({ workspaceId, platform: account.platform as PlatformName })
            }
          >
            Reconnect<span className="sr-only"> {account.username}</span>
          </Button>
        )}
        {account.status !== "disconnected" && (
          <DisconnectButton account={account} workspaceId={workspaceId} />
        )}
      </div>
    </li>
  );
}

export function AccountsPanel({ workspaceId }: { workspaceId: string }) {
  const accounts = useAccounts(workspaceId);
  const [justConnected] = useState(() =>
    new URLSearchParams(window.location.search).get("connected"),
  );
  return (
    <div className="grid gap-6">
      {justConnected && <Alert tone="info">Connected {justConnected}.</Alert>}
      <Card aria-labelledby="accounts-title">
        <CardTitle id="accounts-title">Connected accounts</CardTitle>
        {accounts.isPending && <Loading label="Loading accounts…" />}
        {accounts.isError && (
          <div className="mt-3">
            <ErrorState error={accounts.error} onRetry={() => void accounts.refetch()} />
          </div>
        )}
        {accounts.data && accounts.data.length === 0 && (
          <div className="mt-3">
            <EmptyState title="No accounts yet">Connect one below to start posting.</EmptyState>
          </div>
        )}
        {accounts.data && accounts.data.length > 0 && (
          <ul className="mt-2 divide-y divide-border" aria-label="Accounts">
            {accounts.data.map((account) => (
              <AccountRow key={account.id} account={account} workspaceId={workspaceId} />
            ))}
          </ul>
        )}
      </Card>
      <ConnectButtons workspaceId={workspaceId} />
    </div>
  );
}
