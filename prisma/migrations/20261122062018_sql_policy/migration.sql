-- AlterTable
ALTER TABLE "Connection" ADD COLUMN     "allowFunctions" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "allowedGroups" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "guardrails" JSONB NOT NULL DEFAULT '[]',
ADD COLUMN     "maskColumns" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "maskDetectors" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "reviewMode" TEXT NOT NULL DEFAULT 'writes';

-- AlterTable
ALTER TABLE "Review" ADD COLUMN     "classification" JSONB,
ADD COLUMN     "readOnly" BOOLEAN NOT NULL DEFAULT false;
