import { ConnectCallback } from "@/features/accounts";

export function ConnectedRoute() {
  return (
    <>
      <h1 className="mb-4 text-2xl font-semibold">Connecting your account</h1>
      <ConnectCallback />
    </>
  );
}
