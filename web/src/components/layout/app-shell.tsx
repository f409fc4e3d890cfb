import { useState } from "react";
import { Navigate, NavLink, Outlet, useLocation, useNavigate, useParams } from "react-router";
import { Button } from "@/components/ui/button";
import { Loading } from "@/components/ui/states";
import { useSignOut } from "@/features/auth";
import { canManageMembers, InvitationsBanner } from "@/features/members";
import { useWorkspaces, WorkspaceSwitcher } from "@/features/workspaces";
import { useSession } from "@/lib/auth/use-session";
import { applyTheme, type Theme } from "@/lib/theme";
import { cn } from "@/lib/utils";

/** Pages behind sign-in: wait for the silent refresh, then show them or the sign-in page. */
export function RequireSession() {
  const session = useSession();
  const location = useLocation();
  if (session.status === "unknown")
    return (
      <main className="p-6">
        <Loading label="Restoring your session…" />
      </main>
    );
  if (session.status === "signed-out")
    return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  return <Outlet />;
}

function ThemeToggle() {
  const [theme, setTheme] = useState<Theme>(() =>
    document.documentElement.classList.contains("dark") ? "dark" : "light",
  );
  const next: Theme = theme === "dark" ? "light" : "dark";
  return (
    <Button
      variant="ghost"
      size="sm"
      aria-label={`Switch to ${next} theme`}
      onClick={() => {
        applyTheme(next, true);
        setTheme(next);
      }}
    >
      {theme === "dark" ? "Light" : "Dark"}
    </Button>
  );
}

export function AppShell() {
  const { workspaceId } = useParams();
  const navigate = useNavigate();
  const signOut = useSignOut();
  const workspaces = useWorkspaces();
  const role = workspaces.data?.find((w) => w.id === workspaceId)?.role;
  const link = ({ isActive }: { isActive: boolean }) =>
    cn("rounded-md px-3 py-2 text-sm", isActive ? "bg-muted font-medium" : "hover:bg-muted");
  return (
    <div className="min-h-dvh">
      <a
        href="#main"
        className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:rounded focus:bg-background focus:p-2"
      >
        Skip to content
      </a>
      {/* Two rows at every width: the workspace and the session's buttons, then the pages. At
          375px the pages stay one row that scrolls sideways (the wordmark gives way to the
          switcher), instead of wrapping into three. */}
      <header className="border-b border-border">
        <div className="mx-auto flex max-w-5xl flex-col gap-2 px-4 py-3">
          <div className="flex items-center gap-2">
            <span className="mr-2 hidden font-semibold text-primary sm:inline">SocialSeed</span>
            <WorkspaceSwitcher current={workspaceId} />
            <div className="ml-auto flex shrink-0 items-center gap-1">
              <ThemeToggle />
              <Button
                variant="outline"
                size="sm"
                disabled={signOut.isPending}
                onClick={() =>
                  signOut.mutate(undefined, {
                    onSettled: () => navigate("/sign-in", { replace: true }),
                  })
                }
              >
                Sign out
              </Button>
            </div>
          </div>
          {workspaceId && (
            <nav
              aria-label="Workspace pages"
              className="-mx-4 flex gap-1 overflow-x-auto whitespace-nowrap px-4"
            >
              <NavLink to={`/w/${workspaceId}/compose`} className={link}>
                Compose
              </NavLink>
              <NavLink to={`/w/${workspaceId}/posts`} end className={link}>
                Posts
              </NavLink>
              <NavLink to={`/w/${workspaceId}/calendar`} className={link}>
                Calendar
              </NavLink>
              <NavLink to={`/w/${workspaceId}/analytics`} className={link}>
                Analytics
              </NavLink>
              {canManageMembers(role) && (
                <NavLink to={`/w/${workspaceId}/approvals`} className={link}>
                  Approvals
                </NavLink>
              )}
              <NavLink to={`/w/${workspaceId}/accounts`} className={link}>
                Accounts
              </NavLink>
              <NavLink to={`/w/${workspaceId}/members`} className={link}>
                Members
              </NavLink>
              <NavLink to={`/w/${workspaceId}/integrations`} className={link}>
                Integrations
              </NavLink>
            </nav>
          )}
        </div>
      </header>
      <InvitationsBanner />
      <main id="main" className="mx-auto max-w-5xl px-4 py-6">
        <Outlet />
      </main>
    </div>
  );
}
