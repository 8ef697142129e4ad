-- AlterTable
ALTER TABLE "environments" ADD COLUMN     "options" JSONB NOT NULL DEFAULT '{}';
