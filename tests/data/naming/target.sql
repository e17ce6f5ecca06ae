-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "categories" (
    "id" SERIAL NOT NULL,
    "name" TEXT NOT NULL,
    "label" TEXT NOT NULL,

    CONSTRAINT "categories_pk" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rules" (
    "id" SERIAL NOT NULL,
    "title" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "ownerId" INTEGER NOT NULL,

    CONSTRAINT "rules_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tag_with_an_exceptionally_long_model_name_for_testing_trunc" (
    "id" SERIAL NOT NULL,

    CONSTRAINT "tag_with_an_exceptionally_long_model_name_for_testing_trun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "organization_participant_membership_record_history_archives" (
    "organizationIdentifier" TEXT NOT NULL,
    "participant_id" TEXT NOT NULL,
    "membershipExternalReferenceCode" TEXT NOT NULL,
    "note" TEXT,

    CONSTRAINT "org_history_archive_pk" PRIMARY KEY ("organizationIdentifier","participant_id")
);

-- CreateTable
CREATE TABLE "_category_to_rule" (
    "A" INTEGER NOT NULL,
    "B" INTEGER NOT NULL,

    CONSTRAINT "_category_to_rule_AB_pkey" PRIMARY KEY ("A","B")
);

-- CreateTable
CREATE TABLE "_categories_to_tags_with_an_exceptionally_long_relation_name_fo" (
    "A" INTEGER NOT NULL,
    "B" INTEGER NOT NULL,

    CONSTRAINT "_categories_to_tags_with_an_exceptionally_long_relation_AB_pkey" PRIMARY KEY ("A","B")
);

-- CreateIndex
CREATE UNIQUE INDEX "category_name_uq" ON "categories"("name");

-- CreateIndex
CREATE UNIQUE INDEX "categories_label_key" ON "categories"("label");

-- CreateIndex
CREATE INDEX "rules_title_search" ON "rules"("title");

-- CreateIndex
CREATE INDEX "rules_created" ON "rules"("createdAt");

-- CreateIndex
CREATE INDEX "organization_participant_membership_record_history_archives_idx" ON "organization_participant_membership_record_history_archives"("participant_id", "membershipExternalReferenceCode");

-- CreateIndex
CREATE UNIQUE INDEX "org_history_archive_ref_uq" ON "organization_participant_membership_record_history_archives"("organizationIdentifier", "membershipExternalReferenceCode");

-- CreateIndex
CREATE INDEX "_category_to_rule_B_index" ON "_category_to_rule"("B");

-- CreateIndex
CREATE INDEX "_categories_to_tags_with_an_exceptionally_long_relation_B_index" ON "_categories_to_tags_with_an_exceptionally_long_relation_name_fo"("B");

-- AddForeignKey
ALTER TABLE "rules" ADD CONSTRAINT "rules_owner_fk" FOREIGN KEY ("ownerId") REFERENCES "categories"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_category_to_rule" ADD CONSTRAINT "_category_to_rule_A_fkey" FOREIGN KEY ("A") REFERENCES "categories"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_category_to_rule" ADD CONSTRAINT "_category_to_rule_B_fkey" FOREIGN KEY ("B") REFERENCES "rules"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_categories_to_tags_with_an_exceptionally_long_relation_name_fo" ADD CONSTRAINT "_categories_to_tags_with_an_exceptionally_long_relation__A_fkey" FOREIGN KEY ("A") REFERENCES "categories"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "_categories_to_tags_with_an_exceptionally_long_relation_name_fo" ADD CONSTRAINT "_categories_to_tags_with_an_exceptionally_long_relation__B_fkey" FOREIGN KEY ("B") REFERENCES "tag_with_an_exceptionally_long_model_name_for_testing_trunc"("id") ON DELETE CASCADE ON UPDATE CASCADE;

