-- Where a request came from (issue 13): the client's address, its User-Agent and the MCP client an
-- agent acted through, as shown to reviewers. Existing requests keep null: their origin was not
-- recorded (their audit events have the address and User-Agent).
ALTER TABLE "Review" ADD COLUMN "origin" JSONB;
