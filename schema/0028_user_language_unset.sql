-- A person who never chose a language: the portal follows their browser
-- (the language switch, else Accept-Language), their mail is German.
-- Until now every account got 'de' on creation, so a teacher whose phone
-- speaks English was shown German after signing in. Existing accounts
-- keep what they have (an explicit choice cannot be told from the old
-- default); accounts created from now on start without one.
ALTER TABLE users ALTER COLUMN language DROP NOT NULL, ALTER COLUMN language DROP DEFAULT;
