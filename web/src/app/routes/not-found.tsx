import { Link } from "react-router";
import { EmptyState } from "@/components/ui/states";

export function NotFoundRoute() {
  return (
    <>
      <h1 className="mb-4 text-2xl font-semibold">Page not found</h1>
      <EmptyState title="There is nothing at this address.">
        <Link to="/" className="text-primary underline">
          Go to your workspace
        </Link>
      </EmptyState>
    </>
  );
}
