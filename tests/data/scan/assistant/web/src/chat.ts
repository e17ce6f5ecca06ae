import type { User } from "@prisma/client";
import { prisma } from "../lib/prisma";

// "AssistantChatSession" was the old table; `prisma.chatSession` follows the schema.
export async function sessions(user: User) {
  return prisma.$queryRaw`SELECT id, "sessionName" FROM "AssistantChatSession" WHERE "userId" = ${user.id}`;
}

export const title = "Welcome, User";

export async function touch(id: string) {
  return prisma.$executeRaw`UPDATE "AssistantChatSession" SET "lastActiveAt" = now() WHERE id = ${id}`;
}

export async function count(): Promise<number> {
  return prisma.user.count();
}
