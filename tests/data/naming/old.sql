-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "Category" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "label" TEXT NOT NULL,

    CONSTRAINT "Category_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Rule" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ownerId" INTEGER NOT NULL,

    CONSTRAINT "Rule_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "TagWithAnExceptionallyLongModelNameForTestingTruncation" (
    "id" SERIAL NOT NULL,

    CONSTRAINT "TagWithAnExceptionallyLongModelNameForTestingTruncation_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OrganizationParticipantMembershipRecordHistory" (
    "organizationIdentifier" TEXT NOT NULL,
    "participantIdentifier" TEXT NOT NULL,
    "membershipExternalReferenceCode" TEXT NOT NULL,
    "note" TEXT,

    CONSTRAINT "OrganizationParticipantMembershipRecordHistory_pkey" PRIMARY KEY ("organizationIdentifier","participantIdentifier")
);

-- CreateTable
CREATE TABLE "_CategoryToRule" (
    "A" INTEGER NOT NULL,
    "B" INTEGER NOT NULL,

    CONSTRAINT "_CategoryToRule_AB_pkey" PRIMARY KEY ("A","B")
);

-- CreateTable
CREATE TABLE "_CategoryToTagWithAnExceptionallyLongModelNameForTestingTruncat" (
    "A" INTEGER NOT NULL,
    "B" INTEGER NOT NULL,

    CONSTRAINT "_CategoryToTagWithAnExceptionallyLongModelNameForTestin_AB_pkey" PRIMARY KEY ("A","B")
);

-- CreateIndex
CREATE UNIQUE INDEX "category_name_uq" ON "Category"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Category_label_key" ON "Category"("label");

-- CreateIndex
CREATE INDEX "Rule_title_idx" ON "Rule"("title");

-- CreateIndex
CREATE INDEX "rule_created" ON "Rule"("createdAt");

-- CreateIndex
CREATE INDEX "OrganizationParticipantMembershipRecordHistory_participantI_idx" ON "OrganizationParticipantMembershipRecordHistory"("participantIdentifier", "membershipExternalReferenceCode");

-- CreateIndex
CREATE UNIQUE INDEX "OrganizationParticipantMembershipRecordHistory_organization_key" ON "OrganizationParticipantMembershipRecordHistory"("organizationIdentifier", "membershipExternalReferenceCode");

-- CreateIndex
CREATE INDEX "_CategoryToRule_B_index" ON "_CategoryToRule"("B");

-- CreateIndex
CREATE INDEX "_CategoryToTagWithAnExceptionallyLongModelNameForTestin_B_index" ON "_CategoryToTagWithAnExceptionallyLongModelNameForTestingTruncat"("B");

-- AddForeignKey
ALTER TABLE "Rule" ADD CONSTRAINT "Rule_ownerId_fkey" FOREIGN KEY ("ownerId") REFERENCES "Category"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_CategoryToRule" ADD CONSTRAINT "_CategoryToRule_A_fkey" FOREIGN KEY ("A") REFERENCES "Category"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_CategoryToRule" ADD CONSTRAINT "_CategoryToRule_B_fkey" FOREIGN KEY ("B") REFERENCES "Rule"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_CategoryToTagWithAnExceptionallyLongModelNameForTestingTruncat" ADD CONSTRAINT "_CategoryToTagWithAnExceptionallyLongModelNameForTesting_A_fkey" FOREIGN KEY ("A") REFERENCES "Category"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_CategoryToTagWithAnExceptionallyLongModelNameForTestingTruncat" ADD CONSTRAINT "_CategoryToTagWithAnExceptionallyLongModelNameForTesting_B_fkey" FOREIGN KEY ("B") REFERENCES "TagWithAnExceptionallyLongModelNameForTestingTruncation"("id") ON DELETE CASCADE ON UPDATE CASCADE;

