import { Link, useNavigate } from "react-router";
import { AuthCard } from "@/components/layout/auth-card";
import { SignUpForm } from "@/features/auth";

export function SignUpRoute() {
  const navigate = useNavigate();
  return (
    <AuthCard title="Create your SocialSeed account">
      <SignUpForm onSignedUp={() => navigate("/", { replace: true })} />
      <p className="mt-4 text-sm">
        Already have an account?{" "}
        <Link to="/sign-in" className="text-primary underline">
          Sign in
        </Link>
      </p>
    </AuthCard>
  );
}
