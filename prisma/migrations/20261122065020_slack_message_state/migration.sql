-- AlterTable
ALTER TABLE "SlackMessage" ADD COLUMN     "state" TEXT;
