-- AlterTable
ALTER TABLE "Referral" ADD COLUMN "submissionKey" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Referral_submissionKey_key" ON "Referral"("submissionKey");

