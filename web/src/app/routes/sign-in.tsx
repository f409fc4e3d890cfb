import { Link, Navigate, useLocation, useNavigate } from "react-router";
import { AuthCard } from "@/components/layout/auth-card";
import { SignInForm } from "@/features/auth";
import { useSession } from "@/lib/auth/use-session";

export function SignInRoute() {
  const navigate = useNavigate();
  const location = useLocation();
  const session = useSession();
  const next = (location.state as { from?: string } | null)?.from ?? "/";
  if (session.status === "signed-in") return <Navigate to={next} replace />;
  return (
    <AuthCard title="Sign in to SocialSeed">
      <SignInForm onSignedIn={() => navigate(next, { replace: true })} />
      <p className="mt-4 text-sm">
        New here?{" "}
        <Link to="/sign-up" className="text-primary underline">
          Create an account
        </Link>
      </p>
    </AuthCard>
  );
}
