// Who is asking: the company's auth proxy sets a trusted header (AUTH_USER_HEADER); without it (local use)
// everyone is LOCAL_USER. Recorded as owner and on every operation.
import { headers } from "next/headers";
import { z } from "zod";
import { config } from "./env";

const userSchema = z.string().trim().min(1).max(200);

export function userFrom(value: string | null | undefined, fallback: string): string {
  const parsed = userSchema.safeParse(value);
  return parsed.success ? parsed.data : fallback;
}

export async function currentUser(): Promise<string> {
  const c = config();
  return userFrom((await headers()).get(c.AUTH_USER_HEADER), c.LOCAL_USER);
}
