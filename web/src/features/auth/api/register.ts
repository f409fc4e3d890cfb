import { useMutation } from "@tanstack/react-query";
import { z } from "zod";
import { api, unwrap, type Schemas } from "@/lib/api/client";
import { signIn } from "@/lib/auth/session";

/** The form's rules, the server's (RegisterIn: email, password ≥ 8, name 1–200). */
export const registerSchema = z.object({
  name: z.string().trim().min(1, "Enter your name.").max(200),
  email: z.string().trim().email("Enter an email address.").max(320),
  password: z.string().min(8, "Use at least 8 characters.").max(4096),
});
export type RegisterInput = z.infer<typeof registerSchema>;
// The form's values are what the API takes (a compile-time check against the schema).
const _fits: Schemas["RegisterIn"] = {} as RegisterInput;
void _fits;

/** Create the login, then sign in with it. */
export function useRegister() {
  return useMutation({
    mutationFn: async (input: RegisterInput) => {
      await unwrap(api.POST("/api/v1/auth/register", { body: input }));
      await signIn(input.email, input.password);
    },
  });
}
