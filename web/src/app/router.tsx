import { createBrowserRouter } from "react-router";
import { AppShell, RequireSession } from "@/components/layout/app-shell";
import { AccountsRoute } from "./routes/accounts";
import { ApprovalsRoute } from "./routes/approvals";
import { CalendarRoute } from "./routes/calendar";
import { ComposeRoute } from "./routes/compose";
import { ConnectedRoute } from "./routes/connected";
import { HomeRoute } from "./routes/home";
import { MembersRoute } from "./routes/members";
import { NewWorkspaceRoute } from "./routes/new-workspace";
import { NotFoundRoute } from "./routes/not-found";
import { PostRoute } from "./routes/post";
import { PostsRoute } from "./routes/posts";
import { SignInRoute } from "./routes/sign-in";
import { SignUpRoute } from "./routes/sign-up";

export function createAppRouter() {
  return createBrowserRouter([
    { path: "/sign-in", element: <SignInRoute /> },
    { path: "/sign-up", element: <SignUpRoute /> },
    {
      element: <RequireSession />,
      children: [
        {
          element: <AppShell />,
          children: [
            { index: true, element: <HomeRoute /> },
            { path: "workspaces/new", element: <NewWorkspaceRoute /> },
            { path: "w/:workspaceId/accounts", element: <AccountsRoute /> },
            { path: "w/:workspaceId/compose", element: <ComposeRoute /> },
            { path: "w/:workspaceId/posts", element: <PostsRoute /> },
            { path: "w/:workspaceId/calendar", element: <CalendarRoute /> },
            { path: "w/:workspaceId/posts/:postId", element: <PostRoute /> },
            { path: "w/:workspaceId/approvals", element: <ApprovalsRoute /> },
            { path: "w/:workspaceId/members", element: <MembersRoute /> },
            {
              path: "w/:workspaceId/analytics",
              // Its own chunk: the charts (Recharts) load only when someone opens Analytics.
              lazy: async () => ({ Component: (await import("./routes/analytics")).AnalyticsRoute }),
            },
            { path: "accounts/connected", element: <ConnectedRoute /> },
            { path: "*", element: <NotFoundRoute /> },
          ],
        },
      ],
    },
  ]);
}
