-- The notes service's database before the rename, as Prisma Migrate creates it (default
-- referential actions: ON DELETE RESTRICT, no cascade), plus a schema that sorts before
-- public with tables of the same names, and an app role whose search_path puts it first.
CREATE TYPE "Visibility" AS ENUM ('PRIVATE', 'SHARED');
CREATE TABLE "Author" ("id" TEXT NOT NULL, "email" TEXT NOT NULL, "name" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "Author_pkey" PRIMARY KEY ("id"));
CREATE TABLE "Note" ("id" TEXT NOT NULL, "authorId" TEXT NOT NULL, "title" TEXT NOT NULL, "body" TEXT,
    "visibility" "Visibility" NOT NULL DEFAULT 'PRIVATE', "updatedAt" TIMESTAMP(3) NOT NULL,
    CONSTRAINT "Note_pkey" PRIMARY KEY ("id"));
CREATE TABLE "NoteTag" ("noteId" TEXT NOT NULL, "tag" TEXT NOT NULL, CONSTRAINT "NoteTag_pkey" PRIMARY KEY ("noteId", "tag"));
CREATE UNIQUE INDEX "Author_email_key" ON "Author"("email");
CREATE INDEX "Note_authorId_idx" ON "Note"("authorId");
ALTER TABLE "Note" ADD CONSTRAINT "Note_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "Author"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "NoteTag" ADD CONSTRAINT "NoteTag_noteId_fkey" FOREIGN KEY ("noteId") REFERENCES "Note"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

CREATE SCHEMA analytics;
CREATE TABLE analytics."Author" (id text PRIMARY KEY, seen int NOT NULL DEFAULT 0);
CREATE TABLE analytics.notes (id text PRIMARY KEY, hits int NOT NULL DEFAULT 0);
CREATE TABLE analytics.authors (id text PRIMARY KEY);

INSERT INTO "Author" VALUES ('a1', 'ann@example.test', 'Ann', '2024-01-01'), ('a2', 'bob@example.test', NULL, '2024-01-02');
INSERT INTO "Note" VALUES ('n1', 'a1', 'first', 'hello', 'PRIVATE', '2024-01-03'),
                          ('n2', 'a1', 'second', NULL, 'SHARED', '2024-01-04'),
                          ('n3', 'a2', 'third', 'x', 'PRIVATE', '2024-01-05');
INSERT INTO "NoteTag" VALUES ('n1', 'work'), ('n1', 'idea'), ('n3', 'home');
INSERT INTO analytics."Author" VALUES ('a1', 3);
INSERT INTO analytics.notes VALUES ('n1', 7);
