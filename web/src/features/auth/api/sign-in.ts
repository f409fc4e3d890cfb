import { useMutation } from "@tanstack/react-query";
import { z } from "zod";
import type { Schemas } from "@/lib/api/client";
import { signIn, signOut } from "@/lib/auth/session";

export const signInSchema = z.object({
  email: z.string().trim().min(1, "Enter your email.").max(320),
  password: z.string().min(1, "Enter your password.").max(4096),
});
export type SignInInput = z.infer<typeof signInSchema>;
const _fits: Schemas["LoginIn"] = {} as SignInInput;
void _fits;

export function useSignIn() {
  return useMutation({ mutationFn: (input: SignInInput) => signIn(input.email, input.password) });
}

export function useSignOut() {
  return useMutation({ mutationFn: () => signOut() });
}
