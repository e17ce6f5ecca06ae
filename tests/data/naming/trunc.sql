-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttt" (
    "id" INTEGER NOT NULL,

    CONSTRAINT "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu" (
    "id" INTEGER NOT NULL,

    CONSTRAINT "uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ääääääääääääääääääääääääääääää" (
    "id" INTEGER NOT NULL,
    "x" INTEGER NOT NULL,

    CONSTRAINT "äääääääääääääääääääääääääääää_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "aäääääääääääääääääääääääääääää" (
    "id" INTEGER NOT NULL,
    "xy" INTEGER NOT NULL,

    CONSTRAINT "aääääääääääääääääääääääääääää_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee" (
    "id" INTEGER NOT NULL,
    "a" INTEGER NOT NULL,
    "b" INTEGER NOT NULL,

    CONSTRAINT "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "E2" (
    "id" INTEGER NOT NULL,

    CONSTRAINT "E2_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "_f" (
    "id" INTEGER NOT NULL,

    CONSTRAINT "_f_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "_E2ToF" (
    "A" INTEGER NOT NULL,
    "B" INTEGER NOT NULL,

    CONSTRAINT "_E2ToF_AB_pkey" PRIMARY KEY ("A","B")
);

-- CreateIndex
CREATE UNIQUE INDEX "äääääääääääääääääääääääääääää_key" ON "ääääääääääääääääääääääääääääää"("x");

-- CreateIndex
CREATE INDEX "aäääääääääääääääääääääääääääää_idx" ON "aäääääääääääääääääääääääääääää"("xy");

-- CreateIndex
CREATE UNIQUE INDEX "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee_a_b_key" ON "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"("a", "b");

-- CreateIndex
CREATE INDEX "_E2ToF_B_index" ON "_E2ToF"("B");

-- AddForeignKey
ALTER TABLE "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee" ADD CONSTRAINT "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee_a_fkey" FOREIGN KEY ("a") REFERENCES "E2"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_E2ToF" ADD CONSTRAINT "_E2ToF_A_fkey" FOREIGN KEY ("A") REFERENCES "E2"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_E2ToF" ADD CONSTRAINT "_E2ToF_B_fkey" FOREIGN KEY ("B") REFERENCES "_f"("id") ON DELETE CASCADE ON UPDATE CASCADE;

