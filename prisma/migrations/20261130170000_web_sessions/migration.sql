-- The web app's sessions: a browser signed in with an API key or by single sign-on. Only the
-- sha256 of the cookie's token is stored. A session ends at expiresAt, at sign-out (revokedAt),
-- and with its user or the key it was exchanged for.
-- CreateTable
CREATE TABLE "WebSession" (
    "id" UUID NOT NULL,
    "hash" TEXT NOT NULL,
    "userId" UUID NOT NULL,
    "method" TEXT NOT NULL,
    "apiKeyId" UUID,
    "oidcIssuer" TEXT,
    "oidcSubject" TEXT,
    "ip" TEXT,
    "userAgent" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revokedAt" TIMESTAMP(3),
    CONSTRAINT "WebSession_pkey" PRIMARY KEY ("id")
);
-- CreateIndex
CREATE UNIQUE INDEX "WebSession_hash_key" ON "WebSession"("hash");
-- CreateIndex
CREATE INDEX "WebSession_userId_idx" ON "WebSession"("userId");
-- CreateIndex
CREATE INDEX "WebSession_expiresAt_idx" ON "WebSession"("expiresAt");
-- AddForeignKey
ALTER TABLE "WebSession" ADD CONSTRAINT "WebSession_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;
-- AddForeignKey
ALTER TABLE "WebSession" ADD CONSTRAINT "WebSession_apiKeyId_fkey" FOREIGN KEY ("apiKeyId") REFERENCES "ApiKey"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "WebSession" ADD CONSTRAINT "WebSession_method_check" CHECK ("method" IN ('api-key', 'oidc'));
