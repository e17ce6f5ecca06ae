-- CreateTable
CREATE TABLE "Invoice" ("id" TEXT NOT NULL, "issuedOn" TIMESTAMP(3) NOT NULL, CONSTRAINT "Invoice_pkey" PRIMARY KEY ("id"));
