import { useEffect, useRef } from "react";
import { Link, useNavigate } from "react-router";
import { Alert } from "@/components/ui/alert";
import { Loading } from "@/components/ui/states";
import { describeError } from "@/lib/api/errors";
import { useCompleteConnect } from "../api/accounts";

/** Where the platform's consent sends the browser back: finish the connect as the signed-in
 * user who started it, then show the workspace's accounts. */
export function ConnectCallback() {
  const navigate = useNavigate();
  const complete = useCompleteConnect();
  const started = useRef(false);
  const params = new URLSearchParams(window.location.search);
  const state = params.get("state");
  const code = params.get("code");
  const error = params.get("error");

  useEffect(() => {
    if (started.current || !state || !code) return;
    started.current = true; // the state is single-use: never sent twice
    complete.mutate(
      { state, code },
      {
        onSuccess: (done) => {
          const first = done.accounts[0];
          if (!first) return navigate("/", { replace: true });
          const names = done.accounts.map((a) => `@${a.username}`).join(", ");
          navigate(`/w/${first.workspace_id}/accounts?connected=${encodeURIComponent(names)}`, {
            replace: true,
          });
        },
      },
    );
  }, [state, code, complete, navigate]);

  if (error || !state || !code) {
    return (
      <Alert>
        {error === "access_denied" || error
          ? "The platform did not grant access, so nothing was connected."
          : "This page is reached from a platform's consent page."}{" "}
        <Link to="/" className="underline">
          Back to SocialSeed
        </Link>
      </Alert>
    );
  }
  if (complete.isError) {
    return (
      <Alert>
        {describeError(complete.error)}{" "}
        <Link to="/" className="underline">
          Back to SocialSeed
        </Link>
      </Alert>
    );
  }
  return <Loading label="Finishing the connection…" />;
}
