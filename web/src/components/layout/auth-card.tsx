import type { ReactNode } from "react";
import { Card } from "@/components/ui/card";

export function AuthCard({ title, children }: { title: string; children: ReactNode }) {
  return (
    <main className="flex min-h-dvh items-center justify-center p-4">
      <Card className="w-full max-w-md">
        <p className="mb-1 text-sm font-semibold text-primary">SocialSeed</p>
        <h1 className="mb-6 text-2xl font-semibold">{title}</h1>
        {children}
      </Card>
    </main>
  );
}
