/** Invitations waiting for the signed-in person (their email), with Accept and Decline. */
import { useNavigate } from "react-router";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { useMe } from "@/features/auth";
import { describeError } from "@/lib/api/errors";
import { useAnswerInvitation } from "../api/members";
import { ROLE_LABELS, isRole } from "../lib/roles";

export function InvitationsBanner() {
  const me = useMe();
  const answer = useAnswerInvitation();
  const navigate = useNavigate();
  const invitations = me.data?.invitations ?? [];
  if (invitations.length === 0 && !answer.isError) return null;
  return (
    <section aria-labelledby="invitations-banner" className="border-b border-border bg-muted/40">
      <div className="mx-auto grid max-w-5xl gap-2 px-4 py-3">
        <h2 id="invitations-banner" className="text-sm font-semibold">
          {invitations.length === 1 ? "An invitation for you" : "Invitations for you"}
        </h2>
        <ul aria-label="Invitations for you" className="grid gap-2">
          {invitations.map((inv) => {
            const role = isRole(inv.role) ? ROLE_LABELS[inv.role].toLowerCase() : inv.role;
            return (
              <li key={inv.id} className="flex flex-wrap items-center justify-between gap-2">
                <span className="text-sm">
                  Join <strong>{inv.workspace.name}</strong> as {role}
                </span>
                <span className="flex gap-2">
                  <Button
                    size="sm"
                    disabled={answer.isPending}
                    aria-label={`Accept the invitation to ${inv.workspace.name}`}
                    onClick={() =>
                      answer.mutate(
                        { invitation: inv, accept: true },
                        { onSuccess: () => navigate(`/w/${inv.workspace.id}/posts`) },
                      )
                    }
                  >
                    Accept
                  </Button>
                  <Button
                    size="sm"
                    variant="outline"
                    disabled={answer.isPending}
                    aria-label={`Decline the invitation to ${inv.workspace.name}`}
                    onClick={() => answer.mutate({ invitation: inv, accept: false })}
                  >
                    Decline
                  </Button>
                </span>
              </li>
            );
          })}
        </ul>
        {answer.isError && <Alert>{describeError(answer.error)}</Alert>}
      </div>
    </section>
  );
}
