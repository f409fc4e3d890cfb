import { createBrowserRouter } from "react-router";
import { AppShell, RequireSession } from "@/components/layout/app-shell";

// Every page is its own chunk, loaded when a route first matches: what a page alone needs
// (the composer's forms, the charts, the calendar) never weighs on the others.
const page = {
  SignInRoute: () => import("./routes/sign-in").then((m) => ({ Component: m.SignInRoute })),
  SignUpRoute: () => import("./routes/sign-up").then((m) => ({ Component: m.SignUpRoute })),
  HomeRoute: () => import("./routes/home").then((m) => ({ Component: m.HomeRoute })),
  NewWorkspaceRoute: () => import("./routes/new-workspace").then((m) => ({ Component: m.NewWorkspaceRoute })),
  AccountsRoute: () => import("./routes/accounts").then((m) => ({ Component: m.AccountsRoute })),
  ComposeRoute: () => import("./routes/compose").then((m) => ({ Component: m.ComposeRoute })),
  PostsRoute: () => import("./routes/posts").then((m) => ({ Component: m.PostsRoute })),
  CalendarRoute: () => import("./routes/calendar").then((m) => ({ Component: m.CalendarRoute })),
  PostRoute: () => import("./routes/post").then((m) => ({ Component: m.PostRoute })),
  ApprovalsRoute: () => import("./routes/approvals").then((m) => ({ Component: m.ApprovalsRoute })),
  MembersRoute: () => import("./routes/members").then((m) => ({ Component: m.MembersRoute })),
  IntegrationsRoute: () => import("./routes/integrations").then((m) => ({ Component: m.IntegrationsRoute })),
  AnalyticsRoute: () => import("./routes/analytics").then((m) => ({ Component: m.AnalyticsRoute })),
  ConnectedRoute: () => import("./routes/connected").then((m) => ({ Component: m.ConnectedRoute })),
  NotFoundRoute: () => import("./routes/not-found").then((m) => ({ Component: m.NotFoundRoute })),
};

export function createAppRouter() {
  return createBrowserRouter([
    { path: "/sign-in", lazy: page.SignInRoute },
    { path: "/sign-up", lazy: page.SignUpRoute },
    {
      element: <RequireSession />,
      children: [
        {
          element: <AppShell />,
          children: [
            { index: true, lazy: page.HomeRoute },
            { path: "workspaces/new", lazy: page.NewWorkspaceRoute },
            { path: "w/:workspaceId/accounts", lazy: page.AccountsRoute },
            { path: "w/:workspaceId/compose", lazy: page.ComposeRoute },
            { path: "w/:workspaceId/posts", lazy: page.PostsRoute },
            { path: "w/:workspaceId/calendar", lazy: page.CalendarRoute },
            { path: "w/:workspaceId/posts/:postId", lazy: page.PostRoute },
            { path: "w/:workspaceId/approvals", lazy: page.ApprovalsRoute },
            { path: "w/:workspaceId/members", lazy: page.MembersRoute },
            { path: "w/:workspaceId/analytics", lazy: page.AnalyticsRoute },
            { path: "w/:workspaceId/integrations", lazy: page.IntegrationsRoute },
            { path: "accounts/connected", lazy: page.ConnectedRoute },
            { path: "*", lazy: page.NotFoundRoute },
          ],
        },
      ],
    },
  ]);
}
